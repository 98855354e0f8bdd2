"""The apps depend one way: demo → replies → proposals → accounts → core.

Read from the source (every import, at the top of a module or inside a function), so that
an arrow the other way cannot come back unnoticed, not even "inside a function to avoid
the cycle".
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["core", "accounts", "proposals", "replies", "demo"]


def imported_apps(path):
    """The project apps a module imports, by their top-level package name."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found.update(name.split(".")[0] for name in names if name.split(".")[0] in LAYERS)
    return found


def modules_of(app):
    return [p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]


@pytest.mark.parametrize("app", LAYERS)
def test_an_app_imports_only_the_apps_below_it(app):
    above = set(LAYERS[LAYERS.index(app) + 1 :])
    wrong = {
        str(path.relative_to(ROOT)): sorted(imported_apps(path) & above)
        for path in modules_of(app)
        if imported_apps(path) & above
    }
    assert wrong == {}


def test_the_walk_reads_real_modules():
    # A guard against a test that passes because it read nothing.
    assert len(modules_of("replies")) > 10
    assert "proposals" in imported_apps(ROOT / "replies" / "services" / "base.py")
