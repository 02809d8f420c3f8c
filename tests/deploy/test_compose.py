"""docker-compose.yml: valid for Compose, started in the right order, secrets only as files from one directory."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
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
# The compose secrets, each a file of the same name in ROLLSYNC_SECRETS_DIR (scripts/stack.sh compose-secrets).
SECRET_FILES = (
    "postgres_admin_password",
    "pg_ingest",
    "pg_transform",
    "pg_rules",
    "pg_erp",
    "erp_password",
    "grafana_admin_password",
    "token_signing_key",
    "smtp_password",
)
# The variables a user must set (every ${VAR:?...} or ${VAR?...} in the file); nothing else is needed to start the
# stack. The secrets dir and the signing key's group are not secrets; the relay's robots are (see ROBOT_SECRETS).
SECRETS = (
    "ROLLSYNC_SECRETS_DIR",
    "ROLLSYNC_SECRETS_GID",
    "ALERT_WECOM_URL",
    "ALERT_DINGTALK_URL",
    "ALERT_DINGTALK_SECRET",
)
SECRETS_DIR = "/nonexistent/rollsync-test-secrets"  # compose config only names the files, never reads them
MIGRATE = {"ingest": "migrate-ingest", "transform": "migrate-transform", "rules": "migrate-rules"}
MIGRATE["erp-connector"] = "migrate-erp"
INFRA = ("kafka", "postgres", "edge", "prometheus", "alertmanager", "grafana")
# The edge's certificate directory (${ROLLSYNC_TLS_DIR:?}, a bind mount): not a secret, but required too.
TLS_DIR = tempfile.mkdtemp(prefix="rollsync-tls-")


def _env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SECRETS and k != "ROLLSYNC_ENV"}
    env.update({name: f"{STRONG_SECRET}-{name.lower()}" for name in SECRETS})
    env["ROLLSYNC_SECRETS_DIR"] = SECRETS_DIR
    env["ROLLSYNC_SECRETS_GID"] = "10001"
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
    assert set(project["secrets"]) == set(SECRET_FILES)
    # Not one secret from an environment variable: compose can only copy those into a writable container.
    assert not [n for n, s in project["secrets"].items() if set(s) - {"name", "file"}]
    assert "x-required-secrets" not in raw and "x-secret" not in raw


def _run_compose_secrets(stack: Path, folder: Path, env: dict[str, str]) -> dict[str, str]:
    out = run(["bash", str(stack), "compose-secrets", str(folder)], env=env)
    return dict(line.split("=", 1) for line in out.splitlines())


def test_every_secret_is_a_file_in_the_secrets_dir_and_compose_refuses_without_it() -> None:
    """Outside Swarm, Compose bind-mounts file-sourced secrets into read-only containers (an environment-sourced
    one cannot be created there) and ignores uid/gid/mode: the host files' own modes are what counts."""
    project = _project()
    for name, secret in project["secrets"].items():
        assert secret.get("file") == f"{SECRETS_DIR}/{name}", name
    for name, service in project["services"].items():
        for secret in service.get("secrets") or []:
            assert not {"uid", "gid", "mode"} & set(secret), f"{name}: uid/gid/mode are ignored outside Swarm"
    assert project["services"]["ingest"]["group_add"] == ["10001"]  # the signing key's group
    assert not [n for n, s in project["services"].items() if s.get("group_add") and n != "ingest"]


def test_compose_secrets_writes_0444_files_in_a_0700_dir_and_the_key_0440(tmp_path: Path) -> None:
    """`scripts/stack.sh compose-secrets DIR`: the files docker-compose.yml mounts, from .local/secrets.env and
    the signing key (a copy of the checkout's .local, so the test never touches a developer's secrets)."""
    checkout = tmp_path / "checkout"
    (checkout / "scripts").mkdir(parents=True)
    for script in ("stack.sh", "lib.sh"):
        shutil.copy2(ROOT / "scripts" / script, checkout / "scripts" / script)
    folder = tmp_path / "out" / "secrets"
    env = {k: v for k, v in os.environ.items() if k != "ALERTMANAGER_SMTP_PASSWORD"}
    stack = checkout / "scripts" / "stack.sh"
    printed = _run_compose_secrets(stack, folder, env)
    if os.geteuid() == 0:
        assert printed == {"ROLLSYNC_SECRETS_DIR": str(folder), "ROLLSYNC_SECRETS_GID": "10001"}
    else:
        assert printed == {"ROLLSYNC_SECRETS_DIR": str(folder), "ROLLSYNC_SECRETS_GID": str(os.getgid())}
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert sorted(p.name for p in folder.iterdir()) == sorted(SECRET_FILES)
    for path in folder.iterdir():
        mode = stat.S_IMODE(path.stat().st_mode)
        if path.name == "token_signing_key":
            assert (mode, path.stat().st_gid) == (0o440, int(printed["ROLLSYNC_SECRETS_GID"]))
        else:
            assert mode == 0o444, path.name
    local = checkout / ".local"
    pairs = dict(line.split("=", 1) for line in (local / "secrets.env").read_text().splitlines())
    for name in ("pg_ingest", "pg_transform", "pg_rules", "pg_erp", "erp_password"):
        assert (folder / name).read_text() == pairs[name.upper()], name
    assert (folder / "token_signing_key").read_text() == (local / "secrets" / "token-signing.pem").read_text()
    admin = {n: (folder / n).read_text() for n in ("postgres_admin_password", "grafana_admin_password")}
    assert all(len(v) == 32 for v in admin.values()) and len(set(admin.values())) == 2
    assert (folder / "smtp_password").read_text() == ""  # no SMTP relay until one is written
    # Run again: the compose-only secrets are kept, an SMTP password given is written, the dir stays closed.
    folder.chmod(0o755)
    _run_compose_secrets(stack, folder, {**env, "ALERTMANAGER_SMTP_PASSWORD": "smtp-" + STRONG_SECRET})
    assert {n: (folder / n).read_text() for n in admin} == admin
    assert (folder / "smtp_password").read_text() == "smtp-" + STRONG_SECRET
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


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
    assert {s["source"] for s in services["ingest"]["secrets"]} == {"pg_ingest", "token_signing_key"}
    assert (
        services["ingest"]["environment"]["INGEST_TOKEN_SIGNING_KEY_FILE"] == "/run/secrets/token_signing_key"
    )
    for svc in ("transform", "rules", "erp-connector"):
        env = services[svc]["environment"]
        assert "token_signing_key" not in {s["source"] for s in services[svc].get("secrets") or []}, svc
        assert not [k for k in env if "TOKEN_SECRET" in k or "SIGNING" in k], svc
        assert env[f"{SERVICES[svc][1]}TOKEN_JWKS_URL"] == "http://ingest:8101/.well-known/jwks.json", svc
    assert _project()["secrets"]["token_signing_key"]["file"] == f"{SECRETS_DIR}/token_signing_key"


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
