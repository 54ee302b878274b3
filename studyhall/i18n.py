"""Lazy translations that are escaped like any other text.

Flask-Babel's ``LazyString`` defines ``__html__`` as the plain string, so Jinja and WTForms
print it as markup. A message that interpolates a user's text (``_l("… “%(name)s” …",
name=...)``) then goes out unescaped: a stored or reflected XSS waiting for the one message
that interpolates something a user typed. Every lazy translation in StudyHall is made here
instead; its ``__html__`` escapes. None of our messages holds markup on purpose (a test
checks that no module takes ``lazy_gettext`` from flask_babel directly).
"""

from __future__ import annotations

from flask_babel import LazyString, gettext
from markupsafe import Markup, escape


class EscapedLazyString(LazyString):
    """A lazy translation that renders as text, never as markup."""

    def __html__(self) -> Markup:
        return escape(str(self))


def lazy_gettext(string: str, **variables) -> EscapedLazyString:
    """Translate when rendered, in the request's locale, and escape when printed in HTML."""
    return EscapedLazyString(gettext, string, **variables)


__all__ = ["EscapedLazyString", "lazy_gettext"]
