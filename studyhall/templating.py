"""Jinja filters and helpers: dates (stored in UTC, shown in the configured time zone),
points, lists paged in memory, and versioned static URLs."""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal

from babel.dates import format_skeleton
from flask import Flask, current_app
from flask_babel import format_datetime, get_locale, get_translations, to_user_timezone
from jinja2 import pass_eval_context
from markupsafe import Markup

import question_bank as qb


def localtime(value: datetime | None, pattern: str = "yyyy-MM-dd HH:mm") -> str:
    return format_datetime(value, pattern) if value else ""


def shortdate(value: datetime | None, now: datetime | None = None) -> str:
    """Month, day and time in the reader's language ("12月31日 18:00", "Dec 31, 18:00"),
    with the year only when it is not this year's."""
    if value is None:
        return ""
    local = to_user_timezone(value)
    same_year = now is None or to_user_timezone(now).year == local.year
    day = format_skeleton("MMMd" if same_year else "yMMMd", local, locale=get_locale())
    return f"{day} {local:%H:%M}"


def points(value) -> str:
    """100.00 → "100", 2.50 → "2.5"."""
    if value is None:
        return "-"
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def difficulty_label(value: str | None) -> str:
    return qb.DIFFICULTY_LABELS.get(qb.Difficulty(value), value) if value else ""


class ListPage:
    """One page of a list already in memory, with the attributes of Flask-SQLAlchemy's
    ``Pagination`` that the pagination macros read, and ``first``/``last``, the
    positions (from 1) of the page's first and last items (0 and 0 for an empty list).
    ``page`` may come straight from a query string: anything but a whole number in range
    is the nearest page."""

    def __init__(self, items: Sequence, page, per_page: int = 20):
        try:
            page = int(page)
        except (TypeError, ValueError):
            page = 1
        self.total = len(items)
        self.per_page = per_page
        self.pages = max(1, math.ceil(self.total / per_page))
        self.page = min(max(page, 1), self.pages)
        start = (self.page - 1) * per_page
        self.items = list(items[start:start + per_page])
        self.first = start + 1 if self.items else 0
        self.last = start + len(self.items)

    has_prev = property(lambda self: self.page > 1)
    has_next = property(lambda self: self.page < self.pages)
    prev_num = property(lambda self: self.page - 1 if self.has_prev else None)
    next_num = property(lambda self: self.page + 1 if self.has_next else None)

    def iter_pages(self, left_edge=1, right_edge=1, left_current=1, right_current=2
                   ) -> Iterator[int | None]:
        """Page numbers around the current one and at the edges, None for a gap."""
        previous = 0
        for number in range(1, self.pages + 1):
            if (number <= left_edge or number > self.pages - right_edge
                    or self.page - left_current <= number <= self.page + right_current):
                if number != previous + 1:
                    yield None
                yield number
                previous = number


# ---- versioned static files ----

#: Hex digits spelled as letters: a version has no figures in it, so a search of a page
#: for a score ("80") never finds one inside a static URL.
_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")


def content_version(data: bytes) -> str:
    """48 bits of the content's SHA-256, in letters."""
    return hashlib.sha256(data).hexdigest()[:12].translate(_LETTERS)


def static_hashes(folder: str) -> dict[str, str]:
    """The content version of every static file, by its URL filename."""
    hashes = {}
    for directory, _dirs, files in os.walk(folder):
        for name in files:
            path = os.path.join(directory, name)
            with open(path, "rb") as handle:
                version = content_version(handle.read())
            hashes[os.path.relpath(path, folder).replace(os.sep, "/")] = version
    return hashes


def static_version(filename: str) -> str | None:
    """The version a static file's URL carries now. Computed once at startup; in debug
    mode (files edited while the server runs) recomputed, so a stale hash never sticks."""
    app = current_app._get_current_object()
    if app.debug:
        app.extensions["static_hashes"] = static_hashes(app.static_folder)
    return app.extensions["static_hashes"].get(filename)


def _version_static_urls(endpoint: str, values: dict) -> None:
    """Every url_for('static', filename=...) gains ?v=<hash>, so a changed file gets a new
    URL and an unchanged one can be cached for a year (security.py sets the headers)."""
    if endpoint == "static" and "filename" in values and "v" not in values:
        version = static_version(values["filename"])
        if version:
            values["v"] = version


# ---- translations in templates ----
# Jinja's newstyle gettext, as Flask-Babel installs it, but the catalogue is looked up
# once per render rather than once per string: Flask-Babel's lookup goes through flask.g
# and the locale five times each call, and a paper page has some 250 strings, which was
# a third of its time (bench/profile_quiz_paper.py). The render's EvalContext holds it
# (Jinja leaves that object to extensions for such attributes; taking it rather than the
# context also spares Jinja a derived context per string inside a loop). A render under
# force_locale looks it up under that locale, as before.

def _catalogue(eval_ctx):
    try:
        return eval_ctx.studyhall_translations
    except AttributeError:
        eval_ctx.studyhall_translations = translations = get_translations()
        return translations


#: The catalogue a render translates with (quizzes/paper_page.py renders the paper's
#: questions with the page's own).
catalogue = _catalogue


def _formatted(eval_ctx, text: str, variables: dict) -> str:
    if eval_ctx.autoescape:
        text = Markup(text)
    # Always a format string, as in Jinja's newstyle gettext ("%%" gives "%"); a text
    # without "%" and nothing to put in it is its own result.
    return text % variables if variables or "%" in text else text


@pass_eval_context
def _gettext(__eval_ctx, __string: str, **variables) -> str:
    return _formatted(__eval_ctx, _catalogue(__eval_ctx).ugettext(__string), variables)


@pass_eval_context
def _ngettext(__eval_ctx, __singular: str, __plural: str, __num: int, **variables) -> str:
    variables.setdefault("num", __num)
    return _formatted(__eval_ctx, _catalogue(__eval_ctx).ungettext(__singular, __plural,
                                                                   __num), variables)


@pass_eval_context
def _pgettext(__eval_ctx, __string_ctx: str, __string: str, **variables) -> str:
    variables.setdefault("context", __string_ctx)
    return _formatted(__eval_ctx, _catalogue(__eval_ctx).upgettext(__string_ctx, __string),
                      variables)


@pass_eval_context
def _npgettext(__eval_ctx, __string_ctx: str, __singular: str, __plural: str, __num: int,
               **variables) -> str:
    variables.setdefault("context", __string_ctx)
    variables.setdefault("num", __num)
    return _formatted(__eval_ctx, _catalogue(__eval_ctx).unpgettext(
        __string_ctx, __singular, __plural, __num), variables)


def register(app: Flask) -> None:
    app.jinja_env.globals.update(gettext=_gettext, _=_gettext, ngettext=_ngettext,
                                 pgettext=_pgettext, npgettext=_npgettext)
    app.add_template_filter(localtime)
    app.add_template_filter(shortdate)
    app.add_template_filter(points)
    app.add_template_filter(difficulty_label)
    app.jinja_env.globals["ListPage"] = ListPage
    app.extensions["static_hashes"] = static_hashes(app.static_folder)
    app.url_defaults(_version_static_urls)

    # Rates and averages (|rate, |average, |score): one module, rounded half up.
    from studyhall import figures

    figures.register(app)
