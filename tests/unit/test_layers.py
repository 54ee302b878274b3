"""auth sits below org: it may use org's models (Person, Role, Unit), nothing else of org,
so that org's modules can use auth's scope and decorators without an import cycle."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_auth_imports_nothing_of_org_but_its_models():
    found = {
        f"{path.name}: {name}"
        for path in (ROOT / "studyhall" / "auth").glob("*.py")
        for name in _imports(path)
        if (name == "studyhall.org" or name.startswith("studyhall.org."))
        and not name.startswith("studyhall.org.models")
    }
    assert found == set()


def test_org_models_import_nothing_of_auth():
    assert not any(name.startswith("studyhall.auth")
                   for name in _imports(ROOT / "studyhall" / "org" / "models.py"))
