"""The paper page's questions, grid buttons and messages: each rendered once per worker,
filled in for each taker.

Jinja's render of the 20 questions was most of the paper page's time (its ~2,200 output
pieces and ~900 escapes; bench/profile_quiz_paper.py), yet all but a few bytes of a
question are the same for every taker who gets it with the same option order.
``question_html`` renders templates/quizzes/_paper_question.html once per

    (question id, row type, option order, points, practice or not, translations),

with a marker where each of the taker's values goes (the slots: ``s('name')`` in the
template), turns the result into a format string, and fills it per request with the
taker's values, each escaped as Jinja escapes it. A remembered fragment is used only while
the question object is the one ``paper.question_of`` gives now (a changed config or
regrade parses a new object, so the fragment is rendered anew), the catalogue is the one
this render translates with, and the template object is the one Jinja gives now. The
slots' values are computed in one place (``_Values``), for the cached fill and for the
direct render alike (tests/app/test_paper_page.py compares the two). The grid's buttons
(``cell_html``: one fragment per language and answered/flagged/current state) and the
dialog and script messages (``static_html``: one per language) go the same way: with
the questions, Jinja's per-item work was most of what remained of the render.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from jinja2 import pass_eval_context
from markupsafe import Markup, escape

from studyhall.templating import catalogue

QUESTION = "quizzes/_paper_question.html"
CELL = "quizzes/_paper_cell.html"
#: Fragments kept per worker: 20 questions × every option order of 4 options × 2
#: languages is under 1,000 (and 8 grid cells and the static parts per language); past
#: this, all are forgotten.
FRAGMENTS_KEPT = 4096
#: (template name, *key, id(translations)) → (guard, translations, template, format
#: string); a question's key is (question id, type, option order, points, practice).
_FRAGMENTS: dict[tuple, tuple] = {}
_MARK = "\x00"
_EMPTY = Markup("")
_CHECKED, _HIDDEN, _DISABLED = Markup("checked"), Markup("hidden"), Markup("disabled")
_RIGHT, _WRONG = Markup(" right"), Markup(" wrong")


class _Values(dict):
    """The slots' values for one question on one taker's page, every one escaped
    (Markup). The answer's slots are computed when the fragment asks for them."""

    def __init__(self, row, label, hidden, first, last, practice, feedback, feedback_body):
        final = practice and row.score is not None
        super().__init__(
            p=escape(row.position), label=escape(label),
            hidden=_HIDDEN if hidden else _EMPTY,
            disabled=_DISABLED if final else _EMPTY,
            check_hidden=_HIDDEN if final else _EMPTY,
            flag=_CHECKED if row.is_flagged else _EMPTY,
            feedback_class=(_RIGHT if feedback.get("correct") else _WRONG)
            if feedback and not feedback.get("withheld") else _EMPTY,
            feedback_hidden=_EMPTY if feedback else _HIDDEN,
            feedback=escape(feedback_body) if feedback else _EMPTY,
            first=_DISABLED if first else _EMPTY, last=_DISABLED if last else _EMPTY)
        self.response = row.response

    def __missing__(self, key: str) -> Markup:
        response = self.response
        name, _, arg = key.partition("_")
        if name == "checked":
            if arg == "true":
                return _CHECKED if response is True else _EMPTY
            if arg == "false":
                return _CHECKED if response is False else _EMPTY
            return _CHECKED if response and (response == arg or (
                not isinstance(response, str) and arg in response)) else _EMPTY
        if name == "blank":
            index = int(arg)
            return escape(response[index] if response and len(response) > index else "")
        if name == "text":
            return escape(response or "")
        raise KeyError(key)


class _Recorder:
    """The slots as the fragment is compiled: a marker for each, its name recorded."""

    def __init__(self):
        self.keys: list[str] = []

    def __call__(self, name: str, arg: Any = None) -> Markup:
        key = name if arg is None else f"{name}_{arg}"
        self.keys.append(key)
        return Markup(f"{_MARK}{key}{_MARK}")


def _render(template, variables: dict, translations, slots) -> str:
    """The fragment, rendered as Template.render does, translated with ``translations``
    (the page's catalogue, templating.catalogue)."""
    context = template.new_context({**variables, "s": slots})
    context.eval_ctx.studyhall_translations = translations
    return template.environment.concat(template.root_render_func(context))


def _compiled(template, variables: dict, translations) -> str | None:
    """The fragment as a format string with a field per slot, or None when the text put
    in it holds the marker (then it is rendered directly every time)."""
    recorder = _Recorder()
    parts = _render(template, variables, translations, recorder).split(_MARK)
    if len(parts) != 2 * len(recorder.keys) + 1 or parts[1::2] != recorder.keys:
        return None
    return "".join("{" + part + "}" if i % 2 else part.replace("{", "{{").replace("}", "}}")
                   for i, part in enumerate(parts))


def _filled(eval_ctx, name: str, key: tuple, guard, variables: dict, values: dict) -> Markup:
    """Template ``name`` with ``variables`` (all of which ``key`` must determine, with the
    catalogue), its slots filled from ``values``. The remembered fragment is used only
    while ``guard`` (the parsed question, or None), the catalogue and the template object
    are the ones of this render."""
    translations = catalogue(eval_ctx)
    template = current_app.jinja_env.get_template(name)
    key = (name, *key, id(translations))
    entry = _FRAGMENTS.get(key)
    if entry is None or entry[0] is not guard or entry[1] is not translations \
            or entry[2] is not template:
        compiled = _compiled(template, variables, translations)
        if compiled is None:
            return Markup(_render(template, variables, translations,
                                  lambda slot, arg=None: values[slot if arg is None
                                                                else f"{slot}_{arg}"]))
        if len(_FRAGMENTS) >= FRAGMENTS_KEPT:
            _FRAGMENTS.clear()
        entry = _FRAGMENTS[key] = (guard, translations, template, compiled)
    return Markup(entry[3].format_map(values))


@pass_eval_context
def question_html(eval_ctx, row, item, label, hidden: bool, first: bool, last: bool,
                  practice: bool, feedback: dict | None, feedback_body) -> Markup:
    """One question of the paper for this taker (``row``: the attempt's row; ``item``:
    paper.item_of(row); ``label``: "Question n" as the page translates it; ``hidden``:
    not the current question in one-per-screen; ``feedback`` and its rendered body in
    practice)."""
    return _filled(eval_ctx, QUESTION,
                   (item.id, row.type, item.option_order, row.points, practice),
                   item.question,
                   {"q": item.question, "item": item, "row_type": row.type,
                    "points": row.points, "practice": practice},
                   _Values(row, label, hidden, first, last, practice, feedback,
                           feedback_body))


@pass_eval_context
def cell_html(eval_ctx, row, label, current: bool) -> Markup:
    """The question's button in the grid of numbers: answered, flagged and current are
    part of the key (8 fragments per language), the position and label are slots."""
    state = (row.response is not None, bool(row.is_flagged), current)
    return _filled(eval_ctx, CELL, state, None,
                   dict(zip(("answered", "flagged", "is_current"), state, strict=True)),
                   {"p": escape(row.position), "label": escape(label)})


@pass_eval_context
def static_html(eval_ctx, name: str) -> Markup:
    """A part of the page that depends only on the language (the dialog and the
    script's messages)."""
    return _filled(eval_ctx, name, (), None, {}, {})
