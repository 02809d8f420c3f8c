"""deploy/k8s: every overlay builds, validates offline against Kubernetes schemas, and runs the services safely."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from common import topics
from tests.deploy.tooling import (
    OVERLAYS,
    ROOT,
    SERVICES,
    STRONG_SECRET,
    TOOLS,
    k8s_version,
    of_kind,
    overlay_docs,
    run,
    secret_named,
    settings_problems,
    tool,
    yaml_docs,
)

# Custom resources: no schema for them ships in a registry reachable here, so kubeconform skips them
# (-ignore-missing-schemas) and the tests below check their substance instead.
CRD_KINDS = {
    "KafkaTopic",
    "ScaledObject",
    "Cluster",
    "ServiceMonitor",
    "PrometheusRule",
    "AlertmanagerConfig",
}
PROD_COMPONENT_KINDS = {
    "KafkaTopic",
    "ScaledObject",
    "Cluster",
    "ServiceMonitor",
    "PrometheusRule",
    "AlertmanagerConfig",
}


PORTS = {svc: port for svc, (*_, port, _) in SERVICES.items()} | {"alert-relay": 8106}
RELAY_SECRET = "rollsync-alert-relay"


def _kubeconform(overlay: str) -> list[dict[str, Any]]:
    build = TOOLS / "build" / f"{overlay}.yaml"
    overlay_docs(overlay)  # writes the build output
    location = str(TOOLS / "k8s-schemas") + (
        "/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json"
    )
    out = run(
        [
            tool("kubeconform"),
            "-strict",
            "-ignore-missing-schemas",
            "-verbose",
            "-output",
            "json",
            "-kubernetes-version",
            k8s_version(),
            "-schema-location",
            location,
            str(build),
        ]
    )
    resources: list[dict[str, Any]] = json.loads(out)["resources"]
    return resources


def _deployments(overlay: str) -> dict[str, dict[str, Any]]:
    return of_kind(overlay_docs(overlay), "Deployment")


def _pod(deployment: dict[str, Any]) -> dict[str, Any]:
    pod: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return pod


def _container_env(overlay: str, container: dict[str, Any]) -> dict[str, str]:
    """The environment a container gets: env values, ConfigMap keys and (dummy) Secret values."""
    config_maps = of_kind(overlay_docs(overlay), "ConfigMap")
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(config_maps[source["configMapRef"]["name"]]["data"])
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = str(item["value"])
        elif "configMapKeyRef" in item["valueFrom"]:
            ref = item["valueFrom"]["configMapKeyRef"]
            env[item["name"]] = config_maps[ref["name"]]["data"][ref["key"]]
        elif "secretKeyRef" in item["valueFrom"]:
            env[item["name"]] = f"{STRONG_SECRET}-{item['valueFrom']['secretKeyRef']['name']}"
    return env


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_is_valid_against_the_kubernetes_schemas(overlay: str) -> None:
    resources = _kubeconform(overlay)
    invalid = [
        f"{r['kind']}/{r['name']}: {r.get('msg')}"
        for r in resources
        if r["status"] not in ("statusValid", "statusSkipped")
    ]
    assert not invalid, "\n".join(invalid)
    skipped = {r["kind"] for r in resources if r["status"] == "statusSkipped"}
    assert skipped <= CRD_KINDS, f"kubeconform found no schema for built-in kinds {skipped - CRD_KINDS}"
    assert sum(r["status"] == "statusValid" for r in resources) >= 20


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_secret_values_in_the_manifests(overlay: str) -> None:
    docs = overlay_docs(overlay)
    assert not [d for d in docs if d["kind"] == "Secret"], "Secrets are made outside git"
    for name, cm in of_kind(docs, "ConfigMap").items():
        if name.startswith("rollsync-dashboard-"):
            continue
        leaks = [key for key in cm.get("data", {}) if secret_named(key)]
        assert not leaks, f"ConfigMap {name} holds {leaks}"
    for name, deployment in _deployments(overlay).items():
        pod = _pod(deployment)
        for container in pod["containers"] + pod.get("initContainers", []):
            for item in container.get("env", []):
                if secret_named(item["name"]):
                    # Issue 10: secrets are files from a Secret volume, never environment values.
                    assert item["name"].endswith("_FILE"), f"{name}: {item['name']} is a value, not a file"
                    assert _secret_of(pod, container, item["value"]), (
                        f"{name}: {item['name']} not in a Secret"
                    )


def _secret_of(pod: dict[str, Any], container: dict[str, Any], path: str) -> tuple[str, str] | None:
    """(Secret name, key) behind a file path in `container`, or None when no Secret volume holds it."""
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for mount in container.get("volumeMounts", []):
        secret = volumes[mount["name"]].get("secret")
        if secret is None or not path.startswith(mount["mountPath"] + "/"):
            continue
        assert mount.get("readOnly") is True
        assert secret["defaultMode"] == 0o440, "readable by root and the pod's fsGroup only"
        assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsUser"]
        relative = path.removeprefix(mount["mountPath"] + "/")
        keys = {item["path"]: item["key"] for item in secret["items"]}
        return (secret["secretName"], keys[relative]) if relative in keys else None
    return None


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_ingest_mounts_the_signing_key_and_the_others_read_its_jwks(overlay: str) -> None:
    for svc, (_, prefix, *_rest) in SERVICES.items():
        pod = _pod(_deployments(overlay)[svc])
        env = _container_env(overlay, pod["containers"][0])
        secrets = [v["secret"]["secretName"] for v in pod.get("volumes", []) if "secret" in v]
        assert not [k for k in env if k.endswith("TOKEN_SECRET")], svc
        if svc == "ingest":
            [volume] = [
                v for v in pod["volumes"] if v.get("secret", {}).get("secretName") == "rollsync-token-signing"
            ]
            assert volume["secret"] == {"secretName": "rollsync-token-signing", "defaultMode": 0o440}
            [mount] = [m for m in pod["containers"][0]["volumeMounts"] if m["name"] == volume["name"]]
            assert mount["readOnly"] is True
            assert env["INGEST_TOKEN_SIGNING_KEY_FILE"].startswith(mount["mountPath"] + "/")
        else:
            assert "rollsync-token-signing" not in secrets, svc
            assert env[f"{prefix}TOKEN_JWKS_URL"] == "http://ingest:8101/.well-known/jwks.json", svc


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_gets_every_setting_it_requires(overlay: str) -> None:
    problems = []
    for svc, (_, prefix, *_rest) in SERVICES.items():
        container = _pod(_deployments(overlay)[svc])["containers"][0]
        env = _container_env(overlay, container)
        problems += settings_problems(svc, env)
        if overlay == "prod":
            assert env[f"{prefix}ENV"] == "prod", svc
            assert int(env[f"{prefix}KAFKA__REPLICATION_FACTOR"]) >= 3, svc
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_pods_are_hardened_probed_and_bounded(overlay: str) -> None:
    for name, deployment in _deployments(overlay).items():
        pod = _pod(deployment)
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["automountServiceAccountToken"] is False, name
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for container in pod["containers"] + pod.get("initContainers", []):
            where = f"{name}/{container['name']}"
            sc = container["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True, where
            assert sc["allowPrivilegeEscalation"] is False, where
            assert sc["capabilities"]["drop"] == ["ALL"], where
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), where
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), where
            mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
            tmp = mounts["/tmp"]  # noqa: S108 - the container's own temporary directory, an emptyDir
            assert "emptyDir" in volumes[tmp], f"{where}: /tmp must be an emptyDir"
        main = pod["containers"][0]
        if name == "erp-simulator":
            continue
        assert main["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert main["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert main["ports"][0]["containerPort"] == PORTS[name], name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_migrations_run_before_each_service_with_its_own_image_and_role(overlay: str) -> None:
    for svc, (_, prefix, _, _, _, schema) in SERVICES.items():
        pod = _pod(_deployments(overlay)[svc])
        [init] = pod["initContainers"]
        assert init["image"] == pod["containers"][0]["image"], svc
        assert init["command"][:4] == ["python", "-m", "common.migrations", "migrate"], svc
        assert init["command"][4:] == ["--schema", schema, "--dir", "/app/migrations"], svc
        env = _container_env(overlay, init)
        assert env["ROLLSYNC_PG_ADMIN"] == schema, svc
        assert {
            "ROLLSYNC_PG_HOST",
            "ROLLSYNC_PG_PORT",
            "ROLLSYNC_PG_DB",
            "ROLLSYNC_PG_ADMIN_PASSWORD_FILE",
        } <= set(env)
        main = pod["containers"][0]
        assert _secret_of(pod, init, env["ROLLSYNC_PG_ADMIN_PASSWORD_FILE"]) == _secret_of(
            pod, main, _container_env(overlay, main)[f"{prefix}POSTGRES__PASSWORD_FILE"]
        ), svc
        main_env = _container_env(overlay, pod["containers"][0])
        assert env["ROLLSYNC_PG_HOST"] == main_env[f"{prefix}POSTGRES__HOST"], svc


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_has_its_account_service_and_disruption_budget(overlay: str) -> None:
    docs = overlay_docs(overlay)
    accounts, services, pdbs = (
        of_kind(docs, "ServiceAccount"),
        of_kind(docs, "Service"),
        of_kind(docs, "PodDisruptionBudget"),
    )
    for svc, (*_, port, _) in SERVICES.items():
        deployment = _deployments(overlay)[svc]
        assert deployment["metadata"]["labels"]["app"] == svc
        assert _pod(deployment)["serviceAccountName"] == svc
        assert svc in accounts
        assert services[svc]["spec"]["selector"] == {"app": svc}
        assert services[svc]["spec"]["ports"][0] == {
            "name": "http",
            "port": port,
            "targetPort": "http",
            "protocol": "TCP",
        }
        assert pdbs[svc]["spec"]["selector"]["matchLabels"] == {"app": svc}


def test_prod_images_are_tagged_releases_and_dev_runs_the_simulator() -> None:
    for name, deployment in _deployments("prod").items():
        image = _pod(deployment)["containers"][0]["image"]
        assert re.fullmatch(r"[\w.-]+(:\d+)?/rollsync/[\w-]+:[\w.-]+", image), f"{name}: {image}"
        assert not image.endswith((":dev", ":latest")), name
    assert "erp-simulator" not in _deployments("prod")
    assert "erp-simulator" in _deployments("dev")
    dev_env = _container_env("dev", _pod(_deployments("dev")["erp-connector"])["containers"][0])
    assert dev_env["ERP_CONNECTOR_ERP__BASE_URL"] == "http://erp-simulator:8190"
    prod_env = _container_env("prod", _pod(_deployments("prod")["erp-connector"])["containers"][0])
    assert "simulator" not in prod_env["ERP_CONNECTOR_ERP__BASE_URL"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_deny_by_default_and_allow_each_service(overlay: str) -> None:
    policies = of_kind(overlay_docs(overlay), "NetworkPolicy")
    deny = policies.pop("rollsync-default-deny")
    assert deny["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in deny["spec"]
    assert "egress" not in deny["spec"]
    assert deny["spec"]["podSelector"]["matchLabels"] == {"app.kubernetes.io/part-of": "rollsync"}
    for svc in SERVICES:
        assert (
            _deployments(overlay)[svc]["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/part-of"]
            == "rollsync"
        )
        spec = policies[svc]["spec"]
        assert spec["podSelector"]["matchLabels"] == {"app": svc}
        egress_ports = {p["port"] for rule in spec["egress"] for p in rule["ports"]}
        assert {53, 9092, 5432} <= egress_ports, svc
        if svc == "erp-connector":
            assert {443, 8190} <= egress_ports
        assert all(p["port"] == "http" for rule in spec["ingress"] for p in rule["ports"]), svc
        if svc != "ingest":  # token verifiers read ingest's JWKS and revocation list
            to_ingest = [
                r for r in spec["egress"] if {"podSelector": {"matchLabels": {"app": "ingest"}}} in r["to"]
            ]
            assert [p["port"] for r in to_ingest for p in r["ports"]] == [8101], svc
    verifiers = [
        set(rule["from"][0]["podSelector"]["matchExpressions"][0]["values"])
        for rule in policies["ingest"]["spec"]["ingress"]
        if "podSelector" in rule["from"][0]
    ]
    assert verifiers == [{"transform", "rules", "erp-connector"}]


def test_strimzi_topics_cover_every_topic_and_its_dead_letter_topic() -> None:
    kafka_topics = of_kind(overlay_docs("prod"), "KafkaTopic")
    expected = {*topics.ALL, *(topics.dlq(t) for t in topics.ALL)}
    assert {t["spec"]["topicName"] for t in kafka_topics.values()} == expected
    for name, topic in kafka_topics.items():
        spec = topic["spec"]
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "rollsync", name
        assert spec["replicas"] >= 3, name
        assert spec["partitions"] >= 3, name
        assert int(spec["config"]["retention.ms"]) >= 7 * 24 * 3600 * 1000, name
        assert spec["config"]["min.insync.replicas"] == 2, name


def _code_groups() -> set[str]:
    """Consumer groups the services subscribe with (`<NAME>_GROUP = "..."` in their main or bootstrap modules)."""
    found: set[str] = set()
    for path in [
        *(ROOT / "services").glob("*/src/*/main.py"),
        *(ROOT / "services").glob("*/src/*/bootstrap.py"),
    ]:
        found |= set(re.findall(r'^[A-Z_]*GROUP\s*=\s*"([^"]+)"', path.read_text(), flags=re.MULTILINE))
    return found


def test_keda_scales_consumers_on_their_real_groups_and_topics() -> None:
    docs = overlay_docs("prod")
    scaled = of_kind(docs, "ScaledObject")
    partitions = {
        t["spec"]["topicName"]: t["spec"]["partitions"] for t in of_kind(docs, "KafkaTopic").values()
    }
    groups = _code_groups()
    assert set(scaled) == {"transform", "rules"}
    for name, obj in scaled.items():
        target = _deployments("prod")[obj["spec"]["scaleTargetRef"]["name"]]
        env = _container_env("prod", _pod(target)["containers"][0])
        assert obj["spec"]["minReplicaCount"] >= 1, "services also serve HTTP: never scale to zero"
        for trigger in obj["spec"]["triggers"]:
            meta = trigger["metadata"]
            assert trigger["type"] == "kafka"
            assert meta["consumerGroup"] in groups, (
                f"{name}: group {meta['consumerGroup']} is not in the code"
            )
            assert meta["topic"] in topics.ALL, name
            assert meta["bootstrapServersFromEnv"] in env, name
            assert obj["spec"]["maxReplicaCount"] <= partitions[meta["topic"]], f"{name}: idle replicas"


def test_cloudnativepg_provisions_each_schema_and_role_from_the_services_secrets() -> None:
    [cluster] = of_kind(overlay_docs("prod"), "Cluster").values()
    assert cluster["apiVersion"] == "postgresql.cnpg.io/v1"
    roles = {r["name"]: r for r in cluster["spec"]["managed"]["roles"]}
    sql = "\n".join(cluster["spec"]["bootstrap"]["initdb"]["postInitApplicationSQL"])
    assert cluster["spec"]["bootstrap"]["initdb"]["database"] == "rollsync"
    for svc, (*_, schema) in SERVICES.items():
        assert roles[schema]["login"] is True
        secret = roles[schema]["passwordSecret"]["name"]
        pod = _pod(_deployments("prod")[svc])
        env = pod["containers"][0]["env"]
        password_file = next(e for e in env if e["name"].endswith("POSTGRES__PASSWORD_FILE"))
        assert _secret_of(pod, pod["containers"][0], password_file["value"]) == (secret, "password"), svc
        assert f"CREATE SCHEMA {schema} AUTHORIZATION {schema}" in sql


def test_monitoring_scrapes_the_four_services_and_ships_dashboards() -> None:
    docs = overlay_docs("prod")
    [monitor] = of_kind(docs, "ServiceMonitor").values()
    [selector] = monitor["spec"]["selector"]["matchExpressions"]
    assert set(selector["values"]) == {*SERVICES, "alert-relay"}
    assert monitor["spec"]["jobLabel"] == "app"
    assert monitor["spec"]["endpoints"][0] == {
        **monitor["spec"]["endpoints"][0],
        "port": "http",
        "path": "/metrics",
    }
    dashboards = {p.name for p in (ROOT / "deploy" / "grafana" / "dashboards").glob("*.json")}
    shipped = {
        key
        for name, cm in of_kind(docs, "ConfigMap").items()
        if name.startswith("rollsync-dashboard-")
        for key in cm["data"]
    }
    assert shipped == dashboards
    for cm in (
        cm for name, cm in of_kind(docs, "ConfigMap").items() if name.startswith("rollsync-dashboard-")
    ):
        assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert cm["metadata"]["namespace"] == "rollsync"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_everything_lands_in_the_overlay_namespace(overlay: str) -> None:
    namespace = {"dev": "rollsync-dev", "prod": "rollsync"}[overlay]
    for doc in overlay_docs(overlay):
        if doc["kind"] == "Namespace":
            assert doc["metadata"]["name"] == namespace
            assert doc["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
        else:
            assert doc["metadata"].get("namespace") == namespace, f"{doc['kind']}/{doc['metadata']['name']}"


def test_every_component_is_used_by_an_overlay() -> None:
    used: set[str] = set()
    for overlay in OVERLAYS:
        text = (ROOT / "deploy" / "k8s" / "overlays" / overlay / "kustomization.yaml").read_text()
        used |= set(re.findall(r"\.\./\.\./components/([\w-]+)", text))
    assert used == {p.name for p in Path(ROOT / "deploy" / "k8s" / "components").iterdir() if p.is_dir()}
    kinds = {d["kind"] for d in overlay_docs("prod")}
    assert kinds >= PROD_COMPONENT_KINDS


def test_alertmanagerconfig_routes_like_the_compose_alertmanager_with_credentials_from_a_secret() -> None:
    [amc] = of_kind(overlay_docs("prod"), "AlertmanagerConfig").values()
    [shipped] = yaml_docs(ROOT / "deploy" / "alertmanager" / "alertmanager.yml")
    spec = amc["spec"]
    assert {r["name"] for r in spec["receivers"]} == {r["name"] for r in shipped["receivers"]}
    routes = [(r["receiver"], r["repeatInterval"]) for r in spec["route"]["routes"]]
    assert routes == [(r["receiver"], r["repeat_interval"]) for r in shipped["route"]["routes"]]
    for got, want in zip(spec["route"]["routes"], shipped["route"]["routes"], strict=True):
        assert [f'{m["name"]}{m["matchType"]}"{m["value"]}"' for m in got["matchers"]] == want["matchers"]
    assert len(spec["inhibitRules"]) == len(shipped["inhibit_rules"])
    for receiver in spec["receivers"]:
        for mail in receiver.get("emailConfigs", []):
            assert mail["authPassword"] == {"name": "rollsync-alerting", "key": "smtp-password"}
            assert mail["requireTLS"] is True and mail["sendResolved"] is True
        for hook in receiver.get("webhookConfigs", []):
            # The relay Service of the overlay's namespace, on the path the compose Alertmanager uses.
            path = hook["url"].rsplit(":8106", 1)[1]
            assert hook["url"] == f"http://alert-relay.rollsync.svc:{PORTS['alert-relay']}{path}"
            assert path in ("/wecom", "/dingtalk") and "urlSecret" not in hook
    assert of_kind(overlay_docs("prod"), "Service")["alert-relay"]["metadata"]["namespace"] == "rollsync"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_alert_relay_runs_with_its_robots_from_a_secret_and_refuses_placeholders_in_prod(
    overlay: str,
) -> None:
    from alert_relay.config import Settings

    docs = overlay_docs(overlay)
    deployment = _deployments(overlay)["alert-relay"]
    [container] = _pod(deployment)["containers"]
    # The robots come as files from a Secret volume (issue 10: secrets never as environment values); keys are
    # optional (a site sets only the robots it uses), so the volume is too.
    assert not [e for e in container["env"] if "valueFrom" in e]
    pod = _pod(deployment)
    [volume] = [v for v in pod["volumes"] if "secret" in v]
    assert volume["secret"] == {"secretName": RELAY_SECRET, "defaultMode": 0o440, "optional": True}
    [mount] = [m for m in container["volumeMounts"] if m["name"] == volume["name"]]
    assert mount["readOnly"] is True
    env = _container_env(overlay, container)
    assert env["ALERT_RELAY_ROBOTS_DIR"] == mount["mountPath"]
    assert env["ALERT_RELAY_ENV"] == ("prod" if overlay == "prod" else "dev")
    assert int(env["ALERT_RELAY_PORT"]) == PORTS["alert-relay"]
    with tempfile.TemporaryDirectory() as robots:  # the Secret's files as the kubelet writes them
        wecom = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7b1c-4bc4-97a0-0ec2"
        Path(robots, "wecom-url").write_text(wecom)
        local = {**env, "ALERT_RELAY_ROBOTS_DIR": robots}
        with mock.patch.dict(os.environ, local, clear=True):
            relay = Settings()
            assert relay.wecom_url is not None and relay.wecom_url.get_secret_value() == wecom
            assert relay.dingtalk_url is None  # the optional keys left out
        if overlay == "prod":  # a stand-in that is no robot URL: refused under env=prod
            Path(robots, "wecom-url").write_text("http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x" * 2)
            with mock.patch.dict(os.environ, local, clear=True), pytest.raises(ValueError, match="https URL"):
                Settings()
    policy = of_kind(docs, "NetworkPolicy")["alert-relay"]["spec"]
    assert {p["port"] for rule in policy["egress"] for p in rule["ports"]} == {53, 443}
    [ingress] = policy["ingress"]
    assert ingress["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    ]


def test_prod_ingress_serves_tls_from_a_cert_manager_certificate_and_redirects_http() -> None:
    [ingress] = of_kind(overlay_docs("prod"), "Ingress").values()
    [rule] = ingress["spec"]["rules"]
    assert ingress["spec"]["tls"] == [{"hosts": [rule["host"]], "secretName": "rollsync-edge-tls"}]
    annotations = ingress["metadata"]["annotations"]
    assert annotations["cert-manager.io/cluster-issuer"]
    assert annotations["nginx.ingress.kubernetes.io/force-ssl-redirect"] == "true"
    # HSTS is ingress-nginx's default for TLS hosts: nothing may switch it off here.
    assert not any("hsts" in key for key in annotations)
