"""pyproject.toml declares what the code uses, and nothing else: every runtime dependency
is imported somewhere in studyhall/ or question_bank/, and every third-party module they
import comes from a declared distribution."""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import re
import sys
import tomllib
from functools import cache
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).parents[2]
SOURCES = [ROOT / "studyhall", ROOT / "question_bank", ROOT / "config.py"]
OWN_MODULES = {"studyhall", "question_bank", "config"}
#: Runtime dependencies that are used as a command rather than imported, and why.
COMMANDS = {"gunicorn": "the production server (README, Production)"}


def normalize(name: str) -> str:
    """A distribution name as PEP 503 compares them: Flask_WTF, flask-wtf → flask-wtf."""
    return re.sub(r"[-_.]+", "-", name).lower()


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def runtime_requirements() -> list[Requirement]:
    return [Requirement(line) for line in project()["dependencies"]]


def imported_modules() -> set[str]:
    """Top-level names of every absolute import in the app and the library."""
    names: set[str] = set()
    files = [p for source in SOURCES
             for p in ([source] if source.is_file() else source.rglob("*.py"))]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


@cache
def modules_by_distribution() -> dict[str, set[str]]:
    """Installed distributions (normalized name) → the top-level modules they provide."""
    provided: dict[str, set[str]] = {}
    for module, distributions in metadata.packages_distributions().items():
        for distribution in distributions:
            provided.setdefault(normalize(distribution), set()).add(module)
    return provided


def import_names(distribution: str) -> set[str]:
    """What ``import`` calls a distribution: from its installed metadata (python-calamine →
    python_calamine, Flask-WTF → flask_wtf, XlsxWriter → xlsxwriter), plus the usual
    spelling for one not installed here."""
    key = normalize(distribution)
    return modules_by_distribution().get(key, set()) | {key.replace("-", "_")}


@cache
def requirements_of(distribution: str) -> set[str]:
    """The distributions ``distribution`` installs, itself included, transitively (without
    extras or requirements for other platforms)."""
    found = {normalize(distribution)}
    try:
        requires = metadata.requires(distribution) or []
    except metadata.PackageNotFoundError:
        return found
    for line in requires:
        requirement = Requirement(line)
        if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
            continue
        found |= requirements_of(requirement.name)
    return found


def test_every_runtime_dependency_is_imported():
    imported = imported_modules()
    unused = [str(r) for r in runtime_requirements()
              if normalize(r.name) not in COMMANDS and not import_names(r.name) & imported]
    assert not unused, (
        f"Declared in pyproject.toml but imported nowhere in studyhall/ or question_bank/: "
        f"{unused}. Remove them until the code uses them, or, if a dependency is used as a "
        f"command, name it in COMMANDS with the reason.")


def test_every_third_party_import_is_declared():
    """Declared directly, in an extra (psycopg, for PostgreSQL), or installed by a declared
    distribution (Flask brings Werkzeug and Jinja, Flask-Limiter brings limits)."""
    declared = [r.name for r in runtime_requirements()]
    declared += [Requirement(line).name
                 for lines in project().get("optional-dependencies", {}).values()
                 for line in lines]
    provided: set[str] = set()
    for name in declared:
        for distribution in requirements_of(name):
            provided |= import_names(distribution)
    third_party = imported_modules() - OWN_MODULES - set(sys.stdlib_module_names) - {
        "__future__"}
    missing = sorted(third_party - provided)
    assert not missing, f"Imported but declared nowhere in pyproject.toml: {missing}"


def test_the_name_mapping_handles_the_usual_spellings():
    for distribution, module in [("python-calamine", "python_calamine"),
                                 ("Flask-Login", "flask_login"), ("XlsxWriter", "xlsxwriter"),
                                 ("Flask-Compress", "flask_compress"), ("zxcvbn", "zxcvbn"),
                                 ("psycopg[binary]", "psycopg")]:
        assert module in import_names(Requirement(distribution).name)
