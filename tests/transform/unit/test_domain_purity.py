import ast
import sys
from pathlib import Path

import transform.domain

DOMAIN = Path(transform.domain.__file__).parent


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_the_domain_imports_only_the_standard_library_and_itself() -> None:
    allowed = set(sys.stdlib_module_names) | {"__future__", "transform"}
    offenders = {path.name: sorted(imported_roots(path) - allowed) for path in sorted(DOMAIN.glob("*.py"))}
    assert {name: bad for name, bad in offenders.items() if bad} == {}


def test_the_domain_reaches_no_other_transform_layer() -> None:
    layers = ("transform.adapters", "transform.service_layer", "transform.entrypoints", "transform.config")
    for path in DOMAIN.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert not any(layer in source for layer in layers), path.name
