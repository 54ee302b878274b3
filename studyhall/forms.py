"""What every domain's forms share: the base class and choices."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from babel import support
from flask_babel import get_locale
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField, SelectChoice
from wtforms.i18n import messages_path


@lru_cache(maxsize=8)
def _wtforms_translations(locale: str) -> support.Translations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class Form(FlaskForm):
    """FlaskForm whose WTForms messages ("不是有效的选择") are loaded once per language,
    not read from disk on every request as Flask-WTF does (measured on the exam's
    start and submit), and whose text never holds a NUL character: PostgreSQL refuses
    one in a text column (a 500), and no one types it."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            return _wtforms_translations(str(get_locale()))

        def wrap_formdata(self, form, formdata):
            formdata = super().wrap_formdata(form, formdata)
            if formdata is None or not any(isinstance(value, str) and "\x00" in value
                                           for _key, value in formdata.items(multi=True)):
                return formdata
            return MultiDict([(key, value.replace("\x00", "") if isinstance(value, str)
                               else value) for key, value in formdata.items(multi=True)])


class ConfirmForm(Form):
    """A bare form for buttons that change something: it carries the CSRF token (and,
    for import confirmations, the pending upload's token)."""

    token = HiddenField()


def choices(pairs: Iterable[tuple]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices (tuples are deprecated from WTForms 3.3)."""
    return [SelectChoice(value, label) for value, label in pairs]


def lock_fields(form, locked: Iterable[str], initial: dict) -> None:
    """Show the ``locked`` fields of ``form`` disabled (settings that may no longer change,
    e.g. once people have started) and keep their stored values: a browser does not send
    a disabled input, so a locked field the post left out takes its value from
    ``initial`` and is not validated."""
    locked = set(locked)
    for field in form:
        if field.name in locked:
            field.render_kw = {**(field.render_kw or {}), "disabled": True}
            if field.name in initial and getattr(field, "raw_data", None) == []:
                field.data, field.validators = initial[field.name], ()
