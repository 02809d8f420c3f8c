"""Standalone Kubernetes JSON schemas for kubeconform, made offline from the `kubernetes-validate` wheel (PyPI).

The wheel ships one schema per kind and version (`<kind>-<group>-<version>.json`, kubeconform's naming) whose
`$ref`s point at `/api/_definitions.json`, a URL kubeconform would try to download. This rewrites each
resource schema into a self-contained one: the definitions it reaches are inlined under `$defs`.

    python3 tests/deploy/k8s_schemas.py WHEEL K8S_VERSION OUT_DIR

writes OUT_DIR/v<K8S_VERSION>-standalone-strict/*.json, the layout of kubeconform's default schema location
template, so `kubeconform -schema-location 'OUT_DIR/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json'`
finds them. Run by scripts/ops_tools.sh; standard library only.
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path
from typing import Any

REF_PREFIX = "/api/_definitions.json#/$defs/"
LOCAL_PREFIX = "#/$defs/"  # how the definitions refer to each other


def _target(ref: object) -> str | None:
    if isinstance(ref, str):
        for prefix in (REF_PREFIX, LOCAL_PREFIX):
            if ref.startswith(prefix):
                return ref.removeprefix(prefix)
    return None


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        target = _target(node.get("$ref"))
        if target is not None:
            found.add(target)
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def _rewrite(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _rewrite(v) for k, v in node.items()}
        target = _target(out.get("$ref"))
        if target is not None:
            out["$ref"] = LOCAL_PREFIX + target
        return out
    if isinstance(node, list):
        return [_rewrite(v) for v in node]
    return node


def standalone(schema: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """The schema with every definition it reaches (transitively) inlined and no external reference left."""
    needed: set[str] = set()
    todo: set[str] = set()
    _refs(schema, todo)
    while todo:
        name = todo.pop()
        if name in needed:
            continue
        needed.add(name)
        _refs(definitions[name], todo)
    out: dict[str, Any] = _rewrite({k: v for k, v in schema.items() if k != "$id"})
    out["$defs"] = {name: _rewrite(definitions[name]) for name in sorted(needed)}
    return out


def build(wheel: Path, version: str, out_dir: Path) -> int:
    source = f"kubernetes_validate/kubernetes-json-schema/v{version}-local-strict/"
    target = out_dir / f"v{version}-standalone-strict"
    target.mkdir(parents=True, exist_ok=True)
    count = 0
    with zipfile.ZipFile(wheel) as zf:
        names = [n for n in zf.namelist() if n.startswith(source) and n.endswith(".json")]
        if not names:
            raise SystemExit(f"{wheel} has no schemas for Kubernetes {version}")
        definitions = json.loads(zf.read(source + "_definitions.json"))["$defs"]
        for name in names:
            schema = json.loads(zf.read(name))
            # Only top-level resources (they carry a group-version-kind) are looked up by kubeconform.
            if "x-kubernetes-group-version-kind" not in schema:
                continue
            text = json.dumps(standalone(schema, definitions), separators=(",", ":"))
            (target / name.removeprefix(source)).write_text(text, encoding="utf-8")
            count += 1
    return count


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit("usage: k8s_schemas.py WHEEL K8S_VERSION OUT_DIR")
    written = build(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]))
    sys.stdout.write(f"{written} standalone schemas for Kubernetes {sys.argv[2]}\n")
