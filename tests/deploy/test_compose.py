"""docker-compose.yml: valid for Compose, started in the right order, secrets only as files from the environment."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from erp_simulator.settings import SimulatorSettings
from tests.deploy.tooling import (
    ROOT,
    SERVICES,
    STRONG_SECRET,
    run,
    secret_named,
    settings_problems,
    tool,
    with_secret_files,
    yaml_docs,
)

COMPOSE = ROOT / "docker-compose.yml"
# The variables a user must set (every ${VAR:?...} in the file); nothing else is needed to start the stack.
SECRETS = (
    "POSTGRES_ADMIN_PASSWORD",
    "PG_INGEST",
    "PG_TRANSFORM",
    "PG_RULES",
    "PG_ERP",
    "ERP_PASSWORD",
    "GRAFANA_ADMIN_PASSWORD",
    "TOKEN_SIGNING_KEY",
    "ALERT_WECOM_URL",
    "ALERT_DINGTALK_URL",
    "ALERT_DINGTALK_SECRET",
)
MIGRATE = {"ingest": "migrate-ingest", "transform": "migrate-transform", "rules": "migrate-rules"}
MIGRATE["erp-connector"] = "migrate-erp"
INFRA = ("kafka", "postgres", "edge", "prometheus", "alertmanager", "grafana")
# The edge's certificate directory (${ROLLSYNC_TLS_DIR:?}, a bind mount): not a secret, but required too.
TLS_DIR = tempfile.mkdtemp(prefix="rollsync-tls-")


def _env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SECRETS and k != "ROLLSYNC_ENV"}
    env.update({name: f"{STRONG_SECRET}-{name.lower()}" for name in SECRETS})
    env["TOKEN_SIGNING_KEY"] = "-----BEGIN PRIVATE KEY-----\n(test)\n-----END PRIVATE KEY-----\n"
    env["ROLLSYNC_TLS_DIR"] = TLS_DIR
    env.update(overrides)
    return env


def _project(env: dict[str, str] | None = None) -> dict[str, Any]:
    """The file as compose-go (the library of `docker compose config`) loads, validates and normalises it."""
    out = run([tool("rollsync-yamltool"), "compose", str(COMPOSE)], env=env or _env())
    project: dict[str, Any] = json.loads(out)
    return project


def _compose_plugin() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30, check=False)
    return probe.returncode == 0


@pytest.mark.skipif(not _compose_plugin(), reason="no Docker Compose plugin here; compose-go checks the file")
def test_docker_compose_config_accepts_the_file() -> None:
    run(["docker", "compose", "-f", str(COMPOSE), "config", "-q"], env=_env())


def test_compose_go_loads_and_validates_the_file() -> None:
    services = _project()["services"]
    expected = {*SERVICES, *MIGRATE.values(), "erp-simulator", "alert-relay", *INFRA}
    assert set(services) == expected


def test_every_secret_is_required_from_the_environment() -> None:
    for name in SECRETS:
        env = _env()
        del env[name]
        result = subprocess.run(
            [tool("rollsync-yamltool"), "compose", str(COMPOSE)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode != 0, f"compose starts without {name}"
        assert f"required variable {name} is missing" in result.stderr


def _mounted(service: dict[str, Any]) -> set[str]:
    return {s["target"] for s in service.get("secrets") or []}


# The relay's robots may be left empty (no such robot), which a compose secret file cannot be: they stay
# ${VAR?} references, set in .env, never written in the file (docs/runbook.md, alert-relay).
ROBOT_SECRETS = ("ALERT_WECOM_URL", "ALERT_DINGTALK_URL", "ALERT_DINGTALK_SECRET")


def test_secrets_reach_containers_as_files_never_as_environment_values() -> None:
    """Issue 10: a secret in a container's environment shows in `docker inspect` and start lines. Every
    secret-named variable is a <NAME>_FILE path to a secret the container mounts."""
    project = _project()
    [raw] = yaml_docs(COMPOSE)
    reference = re.compile(r"^\$\{(" + "|".join(ROBOT_SECRETS) + r")\?[^}]*\}$")
    leaks = []
    for name, service in project["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if not secret_named(key):
                continue
            if not key.endswith("_FILE"):
                if not reference.match(str(raw["services"][name]["environment"][key])):
                    leaks.append(f"{name}: {key} is a value")
            elif value not in _mounted(service):
                leaks.append(f"{name}: {key}={value} is not a secret it mounts")
    assert not leaks, ", ".join(leaks)
    files = set(SECRETS) - set(ROBOT_SECRETS)
    sources = {s["environment"] for s in project["secrets"].values()}
    assert sources == {*files, "ALERTMANAGER_SMTP_PASSWORD"}
    required = {re.sub(r"^\$\{([A-Z0-9_]+):\?.*$", r"\1", v) for v in raw["x-required-secrets"]}
    assert required == files


def test_the_services_secret_files_are_readable_by_their_user_only() -> None:
    services = _project()["services"]
    for name in (*SERVICES, *MIGRATE.values(), "erp-simulator"):
        for secret in services[name]["secrets"]:
            assert (secret["uid"], secret["gid"], int(str(secret["mode"]), 8)) == ("10001", "10001", 0o400), (
                name
            )


def test_every_image_is_built_here_or_pinned_to_a_version() -> None:
    for name, service in _project()["services"].items():
        image = service.get("image", "")
        if name in INFRA:
            assert "build" not in service
            assert re.search(r":v?\d[\w.-]*$", image), f"{name}: pin {image!r} to a version"
        else:
            dockerfile = service["build"]["dockerfile"]
            assert service["build"]["context"] == str(ROOT), f"{name}: build context must be the repo root"
            assert (ROOT / dockerfile).is_file(), f"{name}: {dockerfile} missing"
            assert image.startswith("rollsync/"), name


def test_long_running_services_have_health_checks_and_one_shots_do_not_restart() -> None:
    for name, service in _project()["services"].items():
        if name.startswith("migrate-"):
            assert service.get("restart") == "no", name
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        assert service.get("restart") == "unless-stopped", name


def _deps(service: dict[str, Any]) -> dict[str, str]:
    return {name: dep["condition"] for name, dep in (service.get("depends_on") or {}).items()}


def test_start_order_infra_then_migrations_then_services_then_edge() -> None:
    services = _project()["services"]
    for svc, migrate in MIGRATE.items():
        assert _deps(services[migrate]) == {"postgres": "service_healthy"}, migrate
        assert "--dir /app/migrations" in " ".join(services[migrate]["command"])
        deps = _deps(services[svc])
        assert deps[migrate] == "service_completed_successfully", svc
        assert deps["kafka"] == deps["postgres"] == "service_healthy", svc
    assert _deps(services["erp-connector"])["erp-simulator"] == "service_healthy"
    assert _deps(services["edge"]) == dict.fromkeys(SERVICES, "service_healthy")
    assert _deps(services["grafana"]) == {"prometheus": "service_healthy"}


def test_each_service_gets_every_setting_it_requires() -> None:
    services = _project()["services"]
    problems = []
    for svc in SERVICES:
        env = {k: v for k, v in services[svc]["environment"].items() if v is not None}
        problems += settings_problems(svc, env)
        prefix = SERVICES[svc][1]
        assert env[f"{prefix}POSTGRES__HOST"] == "postgres"
        assert env[f"{prefix}KAFKA__BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert env[f"{prefix}POSTGRES__USER"] == SERVICES[svc][5]
    assert not problems, "\n".join(problems)


def test_only_ingest_gets_the_signing_key_and_the_others_its_jwks() -> None:
    services = _project()["services"]
    [secret] = services["ingest"]["secrets"]
    assert (secret["source"], secret["uid"], secret["gid"], secret["mode"]) == (
        "token_signing_key",
        "10001",
        "10001",
        "0400",
    )
    assert (
        services["ingest"]["environment"]["INGEST_TOKEN_SIGNING_KEY_FILE"] == "/run/secrets/token_signing_key"
    )
    for svc in ("transform", "rules", "erp-connector"):
        env = services[svc]["environment"]
        assert not services[svc].get("secrets"), svc
        assert not [k for k in env if "TOKEN_SECRET" in k or "SIGNING" in k], svc
        assert env[f"{SERVICES[svc][1]}TOKEN_JWKS_URL"] == "http://ingest:8101/.well-known/jwks.json", svc
    assert _project()["secrets"]["token_signing_key"]["environment"] == "TOKEN_SIGNING_KEY"


def test_migrations_and_services_share_one_password_per_schema() -> None:
    services = _project()["services"]
    for svc, migrate in MIGRATE.items():
        schema = SERVICES[svc][5]
        password = services[svc]["environment"][f"{SERVICES[svc][1]}POSTGRES__PASSWORD_FILE"]
        assert password == f"/run/secrets/pg_{schema}", svc
        assert password in _mounted(services[migrate]), svc
        assert f"--schema {schema} --password-file {password}" in " ".join(services[migrate]["command"])
        admin = services[migrate]["environment"]["ROLLSYNC_PG_ADMIN_PASSWORD_FILE"]
        assert admin == services["postgres"]["environment"]["POSTGRES_PASSWORD_FILE"], svc
        assert admin in _mounted(services[migrate]) & _mounted(services["postgres"]), svc


def test_the_simulator_and_connector_share_the_erp_login() -> None:
    services = _project()["services"]
    sim, conn = services["erp-simulator"]["environment"], services["erp-connector"]["environment"]
    assert conn["ERP_CONNECTOR_ERP__BASE_URL"] == "http://erp-simulator:8190"
    assert sim["ERP_SIMULATOR_USER"] == conn["ERP_CONNECTOR_ERP__USERNAME"]
    assert (
        sim["ERP_SIMULATOR_PASSWORD_FILE"]
        == conn["ERP_CONNECTOR_ERP__PASSWORD_FILE"]
        == "/run/secrets/erp_password"
    )
    with_env: dict[str, str] = {k: v for k, v in sim.items() if v is not None}
    with tempfile.TemporaryDirectory() as folder, mock.patch.dict(os.environ, clear=True):
        os.environ.update(with_secret_files(with_env, Path(folder)))
        settings = SimulatorSettings()
    assert settings.host == "0.0.0.0"  # noqa: S104
    assert settings.password.get_secret_value() != "dev-password"


def test_mounted_config_files_exist() -> None:
    for name, service in _project()["services"].items():
        for volume in service.get("volumes") or []:
            if volume["type"] == "bind":
                assert os.path.exists(volume["source"]), f"{name} mounts missing {volume['source']}"


def test_kafka_is_kraft_without_topic_auto_creation() -> None:
    env = _project()["services"]["kafka"]["environment"]
    assert _project()["services"]["kafka"]["image"].startswith("apache/kafka:")
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


def _relay_settings(environment: dict[str, str | None]) -> Any:
    from alert_relay.config import Settings  # the relay's own settings decide what the compose env is worth

    env = {k: v for k, v in environment.items() if v is not None}
    with mock.patch.dict(os.environ, env, clear=True):
        return Settings()


def test_alertmanager_posts_robot_webhooks_to_the_alert_relay_service() -> None:
    services = _project()["services"]
    relay_env = services["alert-relay"]["environment"]
    [shipped] = yaml_docs(ROOT / "deploy" / "alertmanager" / "alertmanager.yml")
    hooks = {h["url"] for r in shipped["receivers"] for h in r.get("webhook_configs", [])}
    port = relay_env["ALERT_RELAY_PORT"]
    assert hooks == {f"http://alert-relay:{port}/wecom", f"http://alert-relay:{port}/dingtalk"}
    assert relay_env["ALERT_RELAY_HOST"] == "0.0.0.0"  # noqa: S104 - inside its container


def test_the_alert_relay_takes_its_robots_from_the_environment_and_refuses_placeholders_in_prod() -> None:
    wecom = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7b1c-4bc4-97a0-0ec2sifa5aaa"
    env = _env(ALERT_WECOM_URL=wecom, ALERT_DINGTALK_URL="", ALERT_DINGTALK_SECRET="")
    relay = _relay_settings(_project(env)["services"]["alert-relay"]["environment"])
    assert relay.wecom_url.get_secret_value() == wecom and relay.dingtalk_url is None  # one robot is enough
    prod = _project(_env(ROLLSYNC_ENV="prod"))["services"]["alert-relay"]["environment"]
    with pytest.raises(ValueError, match="wecom_url must be an https URL"):
        _relay_settings(prod)  # the test values are no robot URLs


def test_the_edge_serves_https_from_rollsync_tls_dir_and_refuses_to_start_without_it() -> None:
    edge = _project()["services"]["edge"]
    [tls] = [v for v in edge["volumes"] if v["target"] == "/etc/rollsync/tls"]
    assert (tls["type"], tls["source"], tls.get("read_only")) == ("bind", TLS_DIR, True)
    published = {(p["target"], p["published"], p.get("host_ip")) for p in edge["ports"]}
    https, http = (
        os.environ.get("ROLLSYNC_EDGE_TLS_PORT", "443"),
        os.environ.get("ROLLSYNC_EDGE_PORT", "8080"),
    )
    assert published == {(8443, https, "127.0.0.1"), (8080, http, "127.0.0.1")}
    env = {k: v for k, v in _env().items() if k != "ROLLSYNC_TLS_DIR"}
    refused = subprocess.run(
        [tool("rollsync-yamltool"), "compose", str(COMPOSE)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert refused.returncode != 0
    assert "set ROLLSYNC_TLS_DIR" in refused.stderr + refused.stdout
