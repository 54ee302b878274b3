"""Lazy translations are printed as text: user text interpolated into one is escaped."""

import ast
from pathlib import Path

from flask import Flask, render_template_string
from flask_babel import Babel, LazyString
from markupsafe import escape

from studyhall.i18n import lazy_gettext

ROOT = Path(__file__).resolve().parents[2]
PAYLOAD = '<img src=x onerror="alert(1)">'


def _app() -> Flask:
    app = Flask(__name__)
    Babel(app)
    return app


def test_a_lazy_message_with_user_text_is_escaped_in_a_template():
    app = _app()
    with app.test_request_context():
        message = lazy_gettext("Nobody is called “%(name)s”.", name=PAYLOAD)
        html = render_template_string("<p>{{ message }}</p>", message=message)
    assert "<img" not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html


def test_flask_babels_own_lazy_string_would_not_be_escaped():
    """Why studyhall.i18n exists: this is the behaviour it replaces."""
    app = _app()
    with app.test_request_context():
        from flask_babel import gettext
        html = render_template_string("{{ m }}", m=LazyString(gettext, "%(n)s", n=PAYLOAD))
    assert "<img" in html


def test_a_lazy_message_is_still_text_everywhere_else():
    app = _app()
    with app.test_request_context():
        message = lazy_gettext("%(count)d people & units", count=3)
        assert str(message) == "3 people & units"
        assert str(escape(message)) == "3 people &amp; units"
        assert message + "!" == "3 people & units!"


def test_no_module_takes_lazy_gettext_from_flask_babel():
    offenders = []
    for path in (ROOT / "studyhall").rglob("*.py"):
        if path.name == "i18n.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "flask_babel":
                if any(alias.name in {"lazy_gettext", "lazy_ngettext", "LazyString"}
                       for alias in node.names):
                    offenders.append(str(path.relative_to(ROOT)))
            elif (isinstance(node, ast.Attribute) and node.attr == "lazy_gettext"
                  and isinstance(node.value, ast.Name) and node.value.id == "flask_babel"):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
