"""What every domain's forms share: the base class and choices."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from babel import support
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice
from wtforms.i18n import messages_path


@lru_cache(maxsize=8)
def _wtforms_translations(locale: str) -> support.Translations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class Form(FlaskForm):
    """FlaskForm whose WTForms messages ("不是有效的选择") are loaded once per language,
    not read from disk on every request as Flask-WTF does (measured on the exam's
    start and submit)."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            return _wtforms_translations(str(get_locale()))


class ConfirmForm(Form):
    """A bare form for buttons that change something: it carries the CSRF token (and,
    for import confirmations, the pending upload's token)."""

    token = HiddenField()


def choices(pairs: Iterable[tuple]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices (tuples are deprecated from WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]
