"""Every module of studyhall imports on its own, first, in a fresh set of modules.

The app's start-up imports the packages in one order; a CLI command, a worker or a test
that imports a module first must not find an import cycle that order hid (exports →
sessions.models → sessions' views → exports did, until the views moved out of the
packages' __init__)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import importlib, pkgutil, sys, traceback
import studyhall
names = sorted(m.name for m in pkgutil.walk_packages(studyhall.__path__, "studyhall."))
failed = []
for name in names:
    for loaded in [m for m in sys.modules if m == "studyhall" or m.startswith("studyhall.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception:
        failed.append(name + ": " + traceback.format_exc().strip().splitlines()[-1])
print(len(names))
print("\n".join(failed))
"""


def test_every_module_imports_first():
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    count, *failed = done.stdout.strip().splitlines()
    assert int(count) > 100
    assert failed == []


def test_every_view_module_is_in_the_app_factorys_table():
    from studyhall import VIEWS

    listed = {f"{package}/{module}.py" for package, modules in VIEWS for module in modules}
    found = {str(path.relative_to(ROOT / "studyhall"))
             for path in (ROOT / "studyhall").glob("*/routes*.py")}
    assert listed == found


def test_no_package_imports_its_own_views():
    for init in (ROOT / "studyhall").glob("*/__init__.py"):
        package = init.parent.name
        assert f"from studyhall.{package} import routes" not in init.read_text(encoding="utf-8")
