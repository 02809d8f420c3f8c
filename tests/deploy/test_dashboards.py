"""Grafana dashboards: valid, uniquely named, every panel wired to Prometheus and to metrics that exist."""

from __future__ import annotations

import re

from tests.deploy.dashboards import (
    DASHBOARDS,
    PENDING_METRICS,
    SYNTHETIC,
    declared_in_code,
    load,
    panels,
    queries,
)
from tests.deploy.tooling import ROOT, yaml_docs

GRAFANA = ROOT / "deploy" / "grafana"
EXPECTED = {"overview", "contracts", "customers-erp", "ingest", "transform", "rules", "erp-connector"}


def test_the_dashboard_set_is_complete_and_uniquely_named() -> None:
    boards = load()
    assert {name.removesuffix(".json") for name in boards} == EXPECTED
    uids = [b["uid"] for b in boards.values()]
    titles = [b["title"] for b in boards.values()]
    assert len(set(uids)) == len(uids)
    assert len(set(titles)) == len(titles)
    assert all(re.fullmatch(r"[a-z0-9-]{1,40}", uid) for uid in uids)


def test_every_panel_has_the_prometheus_datasource_and_queries() -> None:
    for name, board in load().items():
        ids = [p["id"] for p in board["panels"]]
        assert len(set(ids)) == len(ids), name
        for panel in panels(board):
            where = f"{name} / {panel['title']}"
            assert panel["datasource"] == {"type": "prometheus", "uid": "prometheus"}, where
            assert panel["targets"], where
            assert {"x", "y", "w", "h"} <= set(panel["gridPos"]), where
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == "prometheus", where
                assert target["expr"].strip(), where
                assert target["expr"].count("(") == target["expr"].count(")"), where


def test_every_metric_a_panel_names_is_declared_by_a_service_or_listed_as_pending() -> None:
    known = declared_in_code() | PENDING_METRICS | SYNTHETIC
    unknown = {f"{q.where}: {m}" for q in queries() for m in q.metrics - known}
    assert not unknown, "dashboards name metrics no service declares:\n" + "\n".join(sorted(unknown))


def test_pending_list_holds_only_metrics_the_dashboards_use_and_no_service_declares_yet() -> None:
    used = {m for q in queries() for m in q.metrics}
    assert used >= PENDING_METRICS, f"unused pending names: {PENDING_METRICS - used}"


def test_provisioning_points_grafana_at_the_dashboards_and_the_datasource_uid() -> None:
    [datasources] = yaml_docs(GRAFANA / "provisioning" / "datasources" / "rollsync.yml")
    [source] = datasources["datasources"]
    assert (source["uid"], source["type"], source["isDefault"]) == ("prometheus", "prometheus", True)
    [providers] = yaml_docs(GRAFANA / "provisioning" / "dashboards" / "rollsync.yml")
    [provider] = providers["providers"]
    mount = provider["options"]["path"]
    compose = (ROOT / "docker-compose.yml").read_text()
    assert f"./deploy/grafana/dashboards:{mount}:ro" in compose
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in compose


def test_the_kubernetes_configmaps_pack_every_dashboard() -> None:
    [kustomization] = yaml_docs(GRAFANA / "kustomization.yaml")
    packed = {f for gen in kustomization["configMapGenerator"] for f in gen["files"]}
    assert packed == {f"dashboards/{p.name}" for p in DASHBOARDS.glob("*.json")}
