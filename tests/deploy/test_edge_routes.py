"""The edge routes the same paths to the same services everywhere: local nginx, compose nginx, Ingress."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.tooling import K8S, ROOT, yaml_docs

TEMPLATE = ROOT / "deploy" / "nginx" / "rollsync.conf.template"
COMPOSE_CONF = ROOT / "deploy" / "nginx" / "rollsync.compose.conf"
UPSTREAM_SERVICE = {
    "ingest": "ingest",
    "transform": "transform",
    "rules": "rules",
    "erp_connector": "erp-connector",
}
_LOCATION = re.compile(r"^\s*location\s+(=|\^~|~)?\s*(\S+)\s*\{(.*?)^\s*\}", re.MULTILINE | re.DOTALL)

Location = tuple[str, str, str]  # (modifier, pattern, service)


def locations(conf: Path) -> list[Location]:
    """Service locations in file order: (modifier, pattern, service); nginx-local ones are left out."""
    out = []
    for modifier, pattern, body in _LOCATION.findall(conf.read_text()):
        upstream = re.search(r"proxy_pass http://(\w+);", body)
        if upstream:
            out.append((modifier or "", pattern, UPSTREAM_SERVICE[upstream.group(1)]))
    return out


def nginx_route(locs: list[Location], path: str) -> str | None:
    """nginx's choice: exact match, else the longest prefix; a ^~ prefix stops the regex search."""
    for modifier, pattern, service in locs:
        if modifier == "=" and path == pattern:
            return service
    prefixes = [(p, m, s) for m, p, s in locs if m in ("", "^~") and path.startswith(p)]
    longest = max(prefixes, key=lambda item: len(item[0]), default=None)
    if longest is not None and longest[1] == "^~":
        return longest[2]
    for modifier, pattern, service in locs:
        if modifier == "~" and re.search(pattern, path):
            return service
    return longest[2] if longest else None


def ingress_route(paths: list[dict[str, object]], path: str) -> str | None:
    """Ingress semantics: Exact, or Prefix by whole path elements; the longest match wins."""
    best: tuple[int, int, str] | None = None
    for item in paths:
        rule, kind = str(item["path"]), item["pathType"]
        backend = item["backend"]
        assert isinstance(backend, dict)
        service = str(backend["service"]["name"])
        if kind == "Exact" and path == rule:
            score = (len(rule), 1, service)
        elif kind == "Prefix" and (path == rule or path.startswith(rule.rstrip("/") + "/")):
            score = (len(rule), 0, service)
        else:
            continue
        best = max(best, score) if best else score
    return best[2] if best else None


def sample_paths(locs: list[Location]) -> list[str]:
    samples = []
    for modifier, pattern, _ in locs:
        if modifier == "~":
            samples.append("/sync/contracts/HT2023001/progress")
        else:
            samples += [pattern, pattern.rstrip("/") + "/sample"] if modifier != "=" else [pattern]
    return samples


def test_compose_variant_has_the_same_location_table_as_the_template() -> None:
    assert locations(COMPOSE_CONF) == locations(TEMPLATE)
    assert len(locations(TEMPLATE)) >= 20
    for upstream, port in (("ingest", 8101), ("transform", 8102), ("rules", 8103), ("erp-connector", 8104)):
        assert f"server {upstream}:{port} " in COMPOSE_CONF.read_text()
    assert "${" not in COMPOSE_CONF.read_text()


def test_ingress_routes_every_edge_path_to_the_service_nginx_picks() -> None:
    [ingress] = yaml_docs(K8S / "base" / "edge" / "ingress.yaml")
    [rule] = ingress["spec"]["rules"]
    locs = locations(TEMPLATE)
    wrong = []
    for path in sample_paths(locs):
        want, got = nginx_route(locs, path), ingress_route(rule["http"]["paths"], path)
        if want != got:
            wrong.append(f"{path}: nginx -> {want}, Ingress -> {got}")
    assert not wrong, "\n".join(wrong)


def test_nginx_accepts_the_compose_config(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        pytest.fail("nginx is missing: scripts/ops_tools.sh installs it")
    # Compose's DNS names do not resolve here: point the upstreams at loopback, keep everything else.
    text = re.sub(r"server [\w-]+:(\d+)", r"server 127.0.0.1:\1", COMPOSE_CONF.read_text())
    # The certificate the compose edge mounts from ROLLSYNC_TLS_DIR: a self-signed one here.
    subprocess.run([str(ROOT / "scripts" / "stack.sh"), "dev-cert", str(tmp_path / "tls")], check=True)
    text = text.replace("/tmp/", f"{tmp_path}/")  # noqa: S108 - rewriting the container's paths.replace("/dev/stdout", f"{tmp_path}/access.log")
    text = text.replace("/dev/stderr", f"{tmp_path}/error.log")
    text = text.replace("/etc/rollsync/tls/", f"{tmp_path}/tls/")
    (tmp_path / "nginx.conf").write_text(text)
    result = subprocess.run(
        [
            nginx,
            "-t",
            "-p",
            str(tmp_path),
            "-c",
            str(tmp_path / "nginx.conf"),
            "-e",
            str(tmp_path / "error.log"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
