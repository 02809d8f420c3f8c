"""The collector settings every service applies before it serves (common.gc_tuning)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from pydantic import SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.gc_tuning import GcSettings, tune_collector
from common.settings import PostgresSettings, ServiceSettingsMixin


@pytest.fixture
def restored_collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restored_collector")
def test_the_defaults_raise_the_first_threshold_and_freeze_what_exists() -> None:
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    tune_collector(GcSettings())
    assert gc.get_threshold() == (50_000, 10, 10)
    assert gc.get_freeze_count() > 1000  # the modules, classes and schemas loaded so far


@pytest.mark.usefixtures("restored_collector")
def test_an_operator_can_keep_cpythons_defaults() -> None:
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    tune_collector(GcSettings(gen0_threshold=700, freeze_after_start=False))
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0


def test_thresholds_out_of_range_are_refused() -> None:
    for bad in (0, 99, 1_000_001):
        with pytest.raises(ValidationError):
            GcSettings(gen0_threshold=bad)


class _Service(ServiceSettingsMixin, BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GCDEMO_", env_nested_delimiter="__", extra="ignore")


def test_a_services_settings_read_it_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GCDEMO_GC__GEN0_THRESHOLD", "2000")
    monkeypatch.setenv("GCDEMO_GC__FREEZE_AFTER_START", "false")
    pg = PostgresSettings(user="demo", password=SecretStr("a-real-one"))
    settings = _Service(port=1, postgres=pg)
    assert (settings.gc.gen0_threshold, settings.gc.freeze_after_start) == (2000, False)
    monkeypatch.delenv("GCDEMO_GC__GEN0_THRESHOLD")
    monkeypatch.delenv("GCDEMO_GC__FREEZE_AFTER_START")
    assert _Service(port=1, postgres=pg).gc == GcSettings()
