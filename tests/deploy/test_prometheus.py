"""Prometheus configs and alert rules: promtool checks them, unit-tests the alerts, and Kubernetes gets the same."""

from __future__ import annotations

import re
from pathlib import Path

from tests.deploy.tooling import ROOT, run, tool, yaml_docs

PROM = ROOT / "deploy" / "prometheus"
ALERTS = PROM / "alerts.yml"
RULE_CRD = ROOT / "deploy" / "k8s" / "components" / "monitoring" / "prometheusrule.yaml"
RUNBOOK = ROOT / "docs" / "runbook.md"


def _alerts() -> list[dict[str, object]]:
    [doc] = yaml_docs(ALERTS)
    return [rule for group in doc["groups"] for rule in group["rules"]]


def test_promtool_checks_the_rules() -> None:
    out = run([tool("promtool"), "check", "rules", str(ALERTS)])
    assert f"SUCCESS: {len(_alerts())} rules found" in out


def test_promtool_unit_tests_every_alert() -> None:
    tests = PROM / "tests" / "alerts_test.yml"
    assert "SUCCESS" in run([tool("promtool"), "test", "rules", str(tests)], cwd=tests.parent)
    tested = set(re.findall(r"alertname: (\w+)", tests.read_text()))
    assert tested == {rule["alert"] for rule in _alerts()}


def test_promtool_checks_both_scrape_configs(tmp_path: Path) -> None:
    run([tool("promtool"), "check", "config", str(PROM / "prometheus.local.yml")])
    # The compose config names the rules by their path inside the container.
    compose = (PROM / "prometheus.yml").read_text().replace("/etc/prometheus/alerts.yml", str(ALERTS))
    (tmp_path / "prometheus.yml").write_text(compose)
    run([tool("promtool"), "check", "config", str(tmp_path / "prometheus.yml")])


def test_scrape_configs_name_jobs_after_services() -> None:
    for name in ("prometheus.yml", "prometheus.local.yml"):
        [config] = yaml_docs(PROM / name)
        jobs = {
            job["job_name"]: job["static_configs"][0]["labels"]["service"]
            for job in config["scrape_configs"]
            if job["job_name"] not in ("prometheus", "alertmanager")
        }
        assert jobs == {s: s for s in ("ingest", "transform", "rules", "erp-connector", "alert-relay")}, name


def test_every_alert_has_severity_team_summary_and_a_runbook_url_section_that_exists() -> None:
    anchors = {
        re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in RUNBOOK.read_text().splitlines()
        if line.startswith("#")
    }
    for rule in _alerts():
        labels, annotations = rule["labels"], rule["annotations"]
        assert isinstance(labels, dict)
        assert isinstance(annotations, dict)
        assert labels["severity"] in ("page", "ticket"), rule["alert"]
        assert labels["team"] in ("platform", "erp", "factory"), rule["alert"]
        assert annotations["summary"], rule["alert"]
        section = str(annotations["runbook_url"]).removeprefix("docs/runbook.md#")
        assert section in anchors, f"{rule['alert']}: docs/runbook.md has no section #{section}"


def test_kubernetes_prometheusrule_is_generated_from_the_rule_file() -> None:
    generated = run([tool("rollsync-yamltool"), "prometheusrule", str(ALERTS)])
    assert RULE_CRD.read_text() == generated, (
        "deploy/k8s/components/monitoring/prometheusrule.yaml is stale: regenerate it with "
        ".local/tools/bin/rollsync-yamltool prometheusrule deploy/prometheus/alerts.yml"
    )
    [crd] = yaml_docs(RULE_CRD)
    [rules] = yaml_docs(ALERTS)
    assert crd["spec"]["groups"] == rules["groups"]
