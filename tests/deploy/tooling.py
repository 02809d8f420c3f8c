"""Helpers for the deploy checks: the tools scripts/ops_tools.sh installs, YAML through them, service settings."""

from __future__ import annotations

import functools
import importlib
import json
import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any
from unittest import mock

from pydantic import BaseModel
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".local" / "tools"
BIN = TOOLS / "bin"
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")

# service -> (settings module, env prefix, dist name, python module, port, schema)
SERVICES: dict[str, tuple[str, str, str, str, int, str]] = {
    "ingest": ("ingest.config", "INGEST_", "rollsync-ingest", "ingest", 8101, "ingest"),
    "transform": ("transform.config", "TRANSFORM_", "rollsync-transform", "transform", 8102, "transform"),
    "rules": ("rules.config", "RULES_", "rollsync-rules", "rules", 8103, "rules"),
    "erp-connector": (
        "erp_connector.config",
        "ERP_CONNECTOR_",
        "rollsync-erp-connector",
        "erp_connector",
        8104,
        "erp",
    ),
}
# A value no settings validator takes for a placeholder (prod refuses short or well-known secrets).
STRONG_SECRET = "t3st-0nly-" + "x" * 30
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN", re.IGNORECASE)
# Names SECRET_NAME matches that hold no secret: where ingest's key file is, and where public keys are read.
NOT_A_SECRET = re.compile(
    r"_TOKEN_(SIGNING_KEY_FILE|PUBLISHED_KEY_FILES|JWKS_URL|REVOCATIONS_URL|ISSUER|AUDIENCE|TTL_S)$"
)


def secret_named(name: str) -> bool:
    return bool(SECRET_NAME.search(name)) and not NOT_A_SECRET.search(name)


@functools.cache
def ensure_tools() -> Path:
    """Run scripts/ops_tools.sh once per session (it is fast when everything is installed)."""
    result = subprocess.run(
        [str(ROOT / "scripts" / "ops_tools.sh")], capture_output=True, text=True, timeout=900, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"scripts/ops_tools.sh failed:\n{result.stdout}\n{result.stderr}")
    return BIN


def tool(name: str) -> str:
    return str(ensure_tools() / name)


def run(cmd: list[str], *, env: dict[str, str] | None = None, cwd: Path = ROOT) -> str:
    """Run a tool; fail with its output when it exits non-zero."""
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=300, check=False)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def yaml_docs(*paths: Path) -> list[Any]:
    """Every YAML document of the files, parsed (by rollsync-yamltool: PyYAML is not a dependency)."""
    docs: list[Any] = json.loads(run([tool("rollsync-yamltool"), "json", *map(str, paths)]))
    return docs


@functools.cache
def kustomize_build(overlay: str) -> str:
    return run([tool("kustomize"), "build", str(K8S / "overlays" / overlay)])


@functools.cache
def overlay_docs(overlay: str) -> tuple[dict[str, Any], ...]:
    out = TOOLS / "build" / f"{overlay}.yaml"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(kustomize_build(overlay), encoding="utf-8")
    return tuple(yaml_docs(out))


def of_kind(docs: tuple[dict[str, Any], ...], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def k8s_version() -> str:
    for line in (TOOLS / "versions.env").read_text().splitlines():
        if line.startswith("K8S_VERSION="):
            return line.split("=", 1)[1]
    raise RuntimeError(".local/tools/versions.env names no K8S_VERSION; run scripts/ops_tools.sh")


def settings_class(service: str) -> type[BaseSettings]:
    module, *_ = SERVICES[service]
    cls: type[BaseSettings] = importlib.import_module(module).Settings
    return cls


def required_env(model: type[BaseModel], prefix: str) -> set[str]:
    """Env names of the fields without a default, nested models followed with `__` (pydantic-settings)."""
    names: set[str] = set()
    for name, field in model.model_fields.items():
        if not field.is_required():
            continue
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= required_env(annotation, f"{prefix}{name.upper()}__")
        else:
            names.add(f"{prefix}{name.upper()}")
    return names


def load_settings(service: str, env: dict[str, str]) -> BaseSettings:
    """The service's Settings as the process would load them from exactly this environment."""
    with mock.patch.dict(os.environ, env, clear=True):
        return settings_class(service)()


def with_secret_files(env: dict[str, str], folder: Path) -> dict[str, str]:
    """`env` with each `<NAME>_FILE` path (a container's /run/secrets/..., absent here) replaced by a local file
    holding a strong dummy value, so the settings load as the container would load them."""
    out = dict(env)
    for key, path in env.items():
        if key.endswith("_FILE") and not Path(path).exists():
            local = folder / key.lower()
            local.write_text(f"{STRONG_SECRET}-{Path(path).name}\n", encoding="utf-8")
            out[key] = str(local)
    return out


def settings_problems(service: str, env: dict[str, str]) -> list[str]:
    """What a deployment's environment gets wrong for `service` (empty when it would start)."""
    prefix = SERVICES[service][1]
    required = required_env(settings_class(service), prefix)
    missing = sorted(name for name in required if name not in env and f"{name}_FILE" not in env)
    problems = [f"{service}: required setting {name} not provided" for name in missing]
    try:
        with tempfile.TemporaryDirectory() as folder:
            settings: Any = load_settings(service, with_secret_files(env, Path(folder)))
    except ValueError as exc:
        return [*problems, f"{service}: settings do not validate: {exc}"]
    if settings.host != "0.0.0.0":  # noqa: S104 - a container must listen beyond its loopback
        problems.append(f"{service}: {prefix}HOST is {settings.host!r}; a container must listen on 0.0.0.0")
    for what, value in (
        ("POSTGRES__HOST", settings.postgres.host),
        ("KAFKA__BOOTSTRAP_SERVERS", settings.kafka.bootstrap_servers),
    ):
        if "127.0.0.1" in value or "localhost" in value:
            problems.append(f"{service}: {prefix}{what} is {value!r}, the container's own loopback")
    return problems
