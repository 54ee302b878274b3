"""Hostile inputs through the app's main create pages (issue 12, item 2), generated from
their WTForms classes: every field of each form gets the payloads of its kind
(tests/fuzz/payloads.py) while the other fields keep valid values, posted by a logged-in
whole-tree admin. No answer is a 5xx, and neither the page that answers (the form shown
again with its errors) nor the page a created object is shown on renders a payload as
live markup or evaluates a template payload."""

from __future__ import annotations

import itertools
import math
import os
import re
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
import wtforms as wt

from studyhall.bank.forms import QuestionForm
from studyhall.org.forms import PersonForm, UnitForm
from studyhall.quizzes.forms import QuizForm
from studyhall.sessions.forms import SessionForm
from studyhall.sessions.forms_plans import PlanForm
from studyhall.study.forms import AssignmentForm, MaterialForm
from tests.fuzz.payloads import CHOICES, DATES, MARKER, NUMBERS, live_payload, text_payloads

#: The create pages and their forms; ``valid`` completes what the page's defaults leave
#: empty so that a post with no payload creates the object.
PAGES = {
    "unit": ("/manage/units/new", UnitForm, {}),
    "person": ("/manage/people/new", PersonForm, {"account": "acc{n}"}),
    "question": ("/manage/bank/new", QuestionForm,
                 {"type": "single", "options-0": "甲", "options-1": "乙",
                  "answer_single": "A", "points": "2"}),
    "quiz": ("/manage/quizzes/new", QuizForm, {"opens_at": "2030-01-01T08:00",
                                                 "closes_at": "2030-01-31T18:00"}),
    "material": ("/manage/study/materials/new", MaterialForm, {"kind": "text",
                                                                "body": "正文"}),
    "assignment": ("/manage/study/assignments/new", AssignmentForm,
                   {"starts_at": "2030-01-01T08:00", "due_at": "2030-01-31T18:00"}),
    "session": ("/manage/sessions/new", SessionForm,
                {"day": "2030-01-10", "start_time": "14:00", "end_time": "16:00",
                 "place": "会议室"}),
    "plan": ("/manage/sessions/plans/new", PlanForm, {"year": "2026"}),
}
#: Posts per page in ``make test``; HOSTILE=full (``make fuzz``) sends every payload to
#: every field.
SHORT_POSTS = 120
FULL = os.environ.get("HOSTILE") == "full" or os.environ.get("FUZZ") == "long"
NUMERIC = (wt.IntegerField, wt.DecimalField, wt.FloatField)
DATE = (wt.DateField, wt.DateTimeLocalField, wt.TimeField)
SKIPPED = (wt.FileField, wt.MultipleFileField, wt.BooleanField, wt.FieldList)


class _FormReader(HTMLParser):
    """The values a page's form would send as it stands (its defaults)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.values: dict[str, str] = {}
        self._select = self._textarea = None
        self._first_option: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and name != "csrf_token":
            kind = attrs.get("type", "text")
            if kind in {"checkbox", "radio"}:
                if "checked" in attrs:
                    self.values.setdefault(name, attrs.get("value", "y"))
            elif kind not in {"file", "submit", "button"}:
                self.values.setdefault(name, attrs.get("value") or "")
        elif tag == "select" and name:
            self._select = name
            if "multiple" in attrs:
                self._first_option[name] = ""
        elif tag == "option" and self._select:
            value = attrs.get("value") or ""
            if value:
                self._first_option.setdefault(self._select, value)
            if "selected" in attrs:
                self.values[self._select] = value
        elif tag == "textarea" and name:
            self._textarea = name
            self.values.setdefault(name, "")

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            if self._first_option.get(self._select):  # a multiple select left empty sends nothing
                self.values.setdefault(self._select, self._first_option[self._select])
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data


_serial = itertools.count(1)


def valid_values(client, url, form_class, valid) -> dict[str, str]:
    reader = _FormReader()
    reader.feed(client.get(url).get_data(as_text=True))
    fields = {field.name: field for field in form_class(meta={"csrf": False})}
    values = {name: value for name, value in reader.values.items()
              if name.split("-")[0] in fields}
    for name, field in fields.items():
        if (field.flags.required and not values.get(name, "").strip()
                and not isinstance(field, SKIPPED + NUMERIC + DATE)):
            values[name] = f"正常{next(_serial)}"
    n = next(_serial)
    values.update({key: value.format(n=n) for key, value in valid.items()})
    return values


def payloads_for(field) -> list[str | bytes]:
    if isinstance(field, SKIPPED):
        return []
    if isinstance(field, NUMERIC):
        return [*NUMBERS, *text_payloads()[:3]]
    if isinstance(field, DATE):
        return DATES
    if isinstance(field, (wt.SelectFieldBase, wt.RadioField)):
        return CHOICES
    return text_payloads()


def post(client, url, values: dict[str, str | bytes]):
    body = urlencode([(k, v if isinstance(v, bytes) else v.encode()) for k, v in
                      values.items()])
    return client.post(url, data=body, content_type="application/x-www-form-urlencoded")




def sample(plan: list, posts: int) -> list:
    """About ``posts`` of ``plan``'s (field, payload) pairs, evenly spread, starting at a
    different place each call so that runs cover different pairs. Never empty when the
    plan is not: the start is taken within one step."""
    step = max(1, math.ceil(len(plan) / posts))
    return plan[next(_serial) % step::step]


def walk(client, url, plan, values_for) -> tuple[int, int, list, list]:
    """Post each (field, payload) of ``plan`` to ``url`` in the values ``values_for(sent)``
    gives; follow each redirect to the page the saved object is shown on. Returns the posts
    sent, the redirects followed (saved and shown), the 5xx and the live markup found."""
    sent, followed, errors, live = 0, 0, [], []
    for field, payload in plan:
        values = values_for(sent)
        values[field.name] = payload
        response = post(client, url, values)
        sent += 1
        if response.status_code >= 500:
            errors.append((field.name, payload[:80]))
            continue
        pages = [response]
        if response.status_code == 302:
            pages.append(client.get(response.headers["Location"]))
            followed += 1
        for answered in pages:
            assert answered.status_code < 500, (field.name, payload[:80])
            found = live_payload(answered.get_data(as_text=True))
            if found:
                live.append((field.name, payload[:80], found[:2]))
    return sent, followed, errors, live


@pytest.mark.parametrize("page", sorted(PAGES))
def test_hostile_values_in_every_field(page, app, client, org, login):
    url, form_class, valid = PAGES[page]
    login(org.admin)
    with app.test_request_context():
        fields = list(form_class(meta={"csrf": False}))
    if page == "question":  # until a category exists, the page sends to the categories
        from studyhall.bank import operations as bank_ops
        from studyhall.extensions import db

        bank_ops.create_category(None, "测试分类")
        db.session.commit()
    base = valid_values(client, url, form_class, valid)
    first = post(client, url, base)
    # Creating a person answers 200 with the initial password; the others redirect (to
    # the new object, or the list it is in: never back to a page asking for something).
    assert first.status_code in (200, 302) and 'aria-invalid="true"' not in first.get_data(
        as_text=True) and (first.status_code == 302 or page == "person"), (page, base, re.findall(
        r'class="[^"]*(?:error|flash)[^"]*"[^>]*>(.*?)<', first.get_data(as_text=True)))
    assert "categories" not in first.headers.get("Location", ""), first.headers["Location"]
    plan = [(field, payload) for field in fields for payload in payloads_for(field)]
    if not FULL:  # every k-th pair: each payload still reaches some field of some page
        plan = sample(plan, SHORT_POSTS)

    def values_for(sent: int) -> dict:
        return valid_values(client, url, form_class, valid) if sent % 50 == 0 else {
            **base, **{k: v.format(n=next(_serial)) for k, v in valid.items()}}

    sent, shown, errors, live = walk(client, url, plan, values_for)
    print(f"{page}: {sent} posts over {len(fields)} fields, {shown} created and shown",
          f"(of {len([1 for f in fields for _p in payloads_for(f)])})")
    assert not errors, errors[:10]
    assert not live, live[:10]


# --- what the corpus found: typed text inside a lazy_gettext message printed unescaped -----
# flask_babel's LazyString has __html__, so Jinja and WTForms take it for safe HTML.

BOLD = f"<b id={MARKER}>x</b>"


def test_a_typed_host_is_escaped_in_its_error(client, org, login):
    login(org.admin)
    url, form_class, valid = PAGES["session"]
    values = valid_values(client, url, form_class, valid)
    page = post(client, url, {**values, "host": BOLD}).get_data(as_text=True)
    assert "&lt;b id=hx7331&gt;x&lt;/b&gt;”" in page and BOLD not in page


def test_typed_accounts_are_escaped_in_their_error(client, org, login):
    login(org.admin)
    url, form_class, valid = PAGES["quiz"]
    paper = post(client, url, valid_values(client, url, form_class, valid)).headers["Location"]
    draft = paper.removesuffix("/paper")
    typed = "<svg/onload=alert(1)>"  # accounts are split at spaces
    page = client.post(f"{draft}/audience", data={"accounts": typed}).get_data(as_text=True)
    assert "&lt;svg/onload=alert(1)&gt;" in page and typed not in page


def test_a_plan_items_topic_is_escaped_among_the_session_forms_choices(app, org):
    from markupsafe import escape

    from studyhall.extensions import db
    from studyhall.model_helpers import utcnow
    from studyhall.sessions import links, plans
    from studyhall.sessions.models import SessionKind

    plan = plans.create_plan(org.admin, org.top, utcnow().year + 1, 0)
    plans.add_item(plan, SessionKind.BRANCH_MEETING, 1, BOLD)
    db.session.commit()
    with app.test_request_context():
        choices = links.plan_item_choices(org.admin, org.top, None, SessionKind.BRANCH_MEETING)
        # The month's wording follows the request's locale (Month 1 / 1月); the topic must
        # come out escaped whatever it is.
        [shown] = [str(escape(label)) for _id, label in choices]
        assert shown.endswith(" · " + str(escape(SessionKind.BRANCH_MEETING.label))
                              + " · &lt;b id=hx7331&gt;x&lt;/b&gt;")
        assert "<b" not in shown


@pytest.mark.parametrize("field, value", [
    ("total_points", "9" * 30), ("total_points", "1e309"), ("total_points", "NaN"),
    ("total_points", "Infinity"), ("pass_mark", "NaN"), ("excellent_mark", "NaN"),
    ("pass_mark", "Infinity"), ("excellent_mark", "Infinity"), ("excellent_mark", "9" * 30)])
def test_an_oversized_or_nan_mark_is_refused_not_a_500(client, org, login, field, value):
    """Found by the corpus: 10^30 % 0.5 and comparisons with NaN raised InvalidOperation;
    an infinite pass mark was accepted, then refused by PostgreSQL's NUMERIC(7, 2)."""
    login(org.admin)
    url, form_class, valid = PAGES["quiz"]
    values = valid_values(client, url, form_class, valid)
    response = post(client, url, {**values, field: value})
    assert response.status_code == 200
    assert f'id="{field}-error"' in response.get_data(as_text=True)


def test_a_nul_character_is_dropped_from_what_a_form_reads(client, org, login):
    """Found by the corpus on PostgreSQL, which refuses NUL in text (a 500 on the unit,
    person, assignment, material and session pages): every form now drops it."""
    from studyhall.extensions import db
    from studyhall.org.models import Unit

    login(org.admin)
    url, form_class, valid = PAGES["unit"]
    values = valid_values(client, url, form_class, valid)
    assert post(client, url, {**values, "name": "新\x00支部"}).status_code == 302
    assert db.session.scalar(db.select(Unit.name).where(Unit.name.like("新%"))) == "新支部"


@pytest.mark.parametrize("value", ["2147483648", "9" * 30])
def test_an_owner_unit_past_the_id_range_is_refused_not_a_500(client, org, login, value):
    """Found by the corpus on PostgreSQL: the session form looked the unit up unchecked."""
    login(org.admin)
    url, form_class, valid = PAGES["session"]
    values = valid_values(client, url, form_class, valid)
    response = post(client, url, {**values, "owner_unit_id": value})
    assert response.status_code == 200 and 'id="owner_unit_id-error"' in response.get_data(
        as_text=True)


# --- formula injection: every text cell of the exports that take no object -------------------

def _cells(data: bytes, suffix: str) -> list[tuple[str, bool]]:
    """(text, marked as text by quotePrefix) of every string cell."""
    import csv
    import io

    import openpyxl

    if suffix == "csv":
        return [(cell, False) for row in csv.reader(io.StringIO(data.decode("utf-8-sig")))
                for cell in row]
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [(cell.value, bool(cell.quotePrefix)) for sheet in book.worksheets
            for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)]


@pytest.mark.parametrize("url", ["/manage/stats/roster.xlsx", "/manage/stats/roster.csv",
                                 "/manage/audit/export.xlsx", "/manage/audit/export.csv"])
def test_formula_starts_in_names_are_neutralised_in_exports(client, org, login, make_person,
                                                            make_unit, url):
    """A person and a unit for each character that starts a formula (exports/safety.py),
    then every string cell of the file: no CSV field starts a formula, every .xlsx cell
    that does is marked text."""
    from studyhall.exports.safety import FORMULA_STARTS, is_risky

    for i, start in enumerate(FORMULA_STARTS):
        unit = make_unit(f"{start}单位{i}", org.branch_a)
        person = make_person(f"f{i}", unit=unit, name=f"{start}HYPERLINK(1)")
        if "audit" in url:  # an audited action on each: a password reset by the admin
            from studyhall import audit
            audit.record(org.admin, "person.password_reset", person)
    from studyhall.extensions import db
    db.session.commit()
    login(org.admin)
    with client.get(url) as response:
        assert response.status_code == 200
        cells = _cells(response.get_data(), url.rsplit(".", 1)[1])
    typed = [text for text, _marked in cells if "HYPERLINK(1)" in text]
    assert len(typed) >= len(FORMULA_STARTS)
    assert [(text, marked) for text, marked in cells if is_risky(text) and not marked] == []
