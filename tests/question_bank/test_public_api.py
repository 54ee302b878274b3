import ast
from pathlib import Path

import question_bank

PACKAGE = Path(question_bank.__file__).parent
FORBIDDEN = ("flask", "sqlalchemy", "wtforms", "pandas", "flask_sqlalchemy")


def test_all_lists_exactly_the_public_names():
    public = {name for name in vars(question_bank) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(question_bank, name)).__name__ == "module"}
    assert sorted(question_bank.__all__) == sorted(public - modules)


def test_every_exported_function_and_class_is_documented():
    undocumented = [
        name
        for name in question_bank.__all__
        if callable(getattr(question_bank, name)) and not getattr(question_bank, name).__doc__
    ]
    assert undocumented == []


def test_the_library_imports_no_framework():
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not [n for n in names if n.split(".")[0] in FORBIDDEN], path
