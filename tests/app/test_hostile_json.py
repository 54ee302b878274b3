"""Hostile inputs through the JSON endpoints (issue 12, item 2), found from the URL map:
every view that reads a JSON body (``request.get_json``, reached from the view through
the functions it calls) or answers a form post with JSON. Each field of a valid body gets
the text corpus (tests/fuzz/payloads.py), values of every JSON type (null, booleans,
huge and non-finite numbers, arrays of 100,000 items, objects), numbers written as
strings; each endpoint also gets malformed bodies (broken, truncated, nested 5,000 deep,
invalid UTF-8, another content type, too large) and its body with each field missing.
Every answer is below 500 and carries no traceback; the pages that show what a save kept
(the exam paper, the reflection's writing page) render no payload as live markup."""

from __future__ import annotations

import dis
import inspect
import json
import math
import os
from dataclasses import dataclass
from datetime import timedelta

import pytest

import question_bank as qb
from studyhall.bank import operations as bank_ops
from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.study import checkpoints
from studyhall.study.models import Material
from tests.app.study_fixtures_s3 import break_material_cycle, create_assignment  # noqa: F401
from tests.factories import PASSWORD
from tests.fuzz.payloads import MARKER, NUMBERS, live_payload, text_payloads

FULL = os.environ.get("HOSTILE") == "full" or os.environ.get("FUZZ") == "long"
#: Field posts per endpoint in ``make test`` (every payload still reaches some field).
SHORT_POSTS = 60


class Raw(bytes):
    """A JSON literal sent as it is written (NaN, 1e309, a 400-digit number)."""


#: Values of every JSON type, in place of a field's value.
JSON_VALUES = [
    None, True, False, 0, -1, 1.5, 2**31, 2**63, -(2**63) - 1, 10**30, Raw(b"9" * 400),
    Raw(b"NaN"), Raw(b"Infinity"), Raw(b"-Infinity"), Raw(b"1e309"), Raw(b"-0"), Raw(b"1e-400"),
    [], {}, [None], ["A", "B"], [1] * 100_000, ["x" * 10] * 20_000, [[[[[[[[]]]]]]]],
    {"$gt": ""}, {"position": 1}, {"__proto__": {"admin": True}}, [{"a": [{"b": None}]}] * 100,
]
#: Whole bodies that are not the endpoint's JSON object.
MALFORMED = [
    b"", b"{", b"}", b"{\"a\":", b"{'position': 1}", b"{\"position\": 1,}", b"null", b"[]",
    b"\"a string\"", b"1", b"true", b"NaN", b"\xef\xbb\xbf{}", b"{\"a\": \"\xff\xfe\"}",
    b"\xff\xfe{\x00}\x00", b"{\"a\": \"\\ud800\"}", b"{\"a\": \"\x00\"}", b"[" * 5000 + b"]" * 5000,
    b"{\"a\":" * 3000 + b"1" + b"}" * 3000, b"[" * 100_000, b"{\"a\": 1, \"a\": 2}",
    b"{\"" + b"k" * 100 + b"\": 1}" , b"{" + b",".join(b"\"k%d\": 1" % n for n in range(20_000))
    + b"}", b"{\"a\": \"" + b"x" * 3_000_000 + b"\"}", b"position=1&response=A",
    b"<?xml version=\"1.0\"?><a/>",
]
#: Content types a client may lie with (the body is the endpoint's valid JSON).
CONTENT_TYPES = ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=gbk",
                 "application/json; charset=utf-16", "multipart/form-data; boundary=x", ""]


def field_payloads() -> list:
    return [*text_payloads(), *JSON_VALUES, *NUMBERS]


def count_payloads() -> int:
    return len(field_payloads()) + len(MALFORMED) + len(CONTENT_TYPES)


# --- discovery from the URL map ------------------------------------------------------------

def _codes(code):
    yield code
    for const in code.co_consts:
        if inspect.iscode(const):
            yield from _codes(const)


def reachable_sources(view, depth: int = 2) -> list[str]:
    """The source of ``view`` and of the app's functions it calls, ``depth`` calls deep
    (globals, and functions of the app's modules it reaches as ``module.function``)."""
    seen, sources = set(), []

    def visit(func, left: int) -> None:
        func = inspect.unwrap(func)
        if func in seen or not getattr(func, "__module__", "").startswith("studyhall"):
            return
        seen.add(func)
        sources.append(inspect.getsource(func))
        if not left:
            return
        for code in _codes(func.__code__):
            module = None
            for ins in dis.get_instructions(code):
                if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
                    found = func.__globals__.get(ins.argval)
                    if inspect.isfunction(found):
                        visit(found, left - 1)
                    module = found if inspect.ismodule(found) else None
                elif ins.opname in ("LOAD_ATTR", "LOAD_METHOD") and module is not None:
                    found = getattr(module, ins.argval, None)
                    if inspect.isfunction(found):
                        visit(found, left - 1)
                    module = None
                else:
                    module = None

    visit(view, depth)
    return sources


def json_endpoints(app) -> dict[str, str]:
    """endpoint → "body" (reads a JSON body) or "reply" (answers a form post with JSON),
    for every rule that accepts a write."""
    found = {}
    for rule in app.url_map.iter_rules():
        if not rule.methods & {"POST", "PUT", "PATCH", "DELETE"}:
            continue
        view = app.view_functions[rule.endpoint]
        if any("get_json(" in source for source in reachable_sources(view)):
            found[rule.endpoint] = "body"
        elif "jsonify(" in inspect.getsource(inspect.unwrap(view)):
            found[rule.endpoint] = "reply"
    return found


# --- the world: a teacher in an exam, reading, writing; an admin recording ------------------

@dataclass
class Case:
    url: str
    who: str            # "teacher" or "admin"
    valid: dict         # a body (or form) the endpoint accepts
    form: bool = False  # a form post answered with JSON
    shown_on: str | None = None  # the page that shows what was saved
    shown_fields: tuple = ()
    headers: dict | None = None


def build_cases(app, org, make_quiz) -> dict[str, Case]:
    from studyhall.sessions.models import (
        Attendance,
        SessionKind,
        SessionStatus,
        StudySession,
    )

    quiz = make_quiz()
    now = utcnow()
    category = bank_ops.create_category(None, "检查点题")
    question = bank_ops.save_question(None, qb.Question(
        type="single", stem="预备期几年？", options=("一年", "两年"), answer="A", points=1),
        category)
    assignment = create_assignment(org.gen_a, {"unit_ids": [org.branch_a.id]}, min_chars=5)
    material_id = assignment.items[0].material_id
    version = db.session.get(Material, material_id).current_version
    version.body_html = "<p>第一段</p><p>第二段</p>"
    checkpoint = checkpoints.place_checkpoint(version, question.id, 0)
    session = StudySession(kind=SessionKind.THEME_DAY, status=SessionStatus.PUBLISHED,
                           owner_unit_id=org.gen_a.id, topic="主题党日",
                           starts_at=now - timedelta(hours=2), ends_at=now - timedelta(hours=1),
                           checkin_secret="x" * 32, published_at=now,
                           audience={"unit_ids": [org.branch_a.id]})
    db.session.add(session)
    db.session.flush()
    db.session.add(Attendance(session_id=session.id, person_id=org.teacher.id,
                              unit_id=org.teacher.unit_id,
                              political_status=org.teacher.political_status))
    db.session.commit()
    a, m = assignment.id, material_id
    return {
        "quizzes.save_answer": Case(
            "/attempts/{attempt}/answers", "teacher",
            {"position": 5, "response": "三会一课", "flagged": False},
            shown_on="/attempts/{attempt}", shown_fields=("response",)),
        "quizzes.record_event": Case("/attempts/{attempt}/events", "teacher",
                                     {"kind": "return"}),
        "study.reading_beat": Case(f"/study/assignments/{a}/materials/{m}/beat", "teacher",
                                   {"token": "k2tokenk2tokenk2token", "active": True}),
        "study.save_reflection_draft": Case(
            f"/study/assignments/{a}/reflection/draft", "teacher",
            {"body": "学习心得体会", "based_on": 0},
            shown_on=f"/study/assignments/{a}/reflection", shown_fields=("body",)),
        "sessions.save_session_reflection_draft": Case(
            f"/sessions/{session.id}/reflection/draft", "teacher",
            {"body": "学习心得体会", "based_on": 0},
            shown_on=f"/sessions/{session.id}/reflection", shown_fields=("body",)),
        "study.answer_checkpoint": Case(
            f"/study/assignments/{a}/checkpoints/{checkpoint.id}", "teacher",
            {"response": "A"}, form=True, headers={"Accept": "application/json"}),
        "sessions.mark_attendance": Case(
            f"/manage/sessions/{session.id}/roster/{org.teacher.id}", "admin",
            {"status": "present"}, form=True, headers={"X-Requested-With": "fetch"}),
    }, quiz.id, a, m


def logged_in(app, person):
    client = app.test_client()
    client.set_cookie("lang", "en")
    assert client.post("/login", data={"account": person.account,
                                       "password": PASSWORD}).status_code == 302
    return client


def json_body(valid: dict, field: str | None, payload) -> bytes:
    """``valid`` with ``field`` set to ``payload``: raw bytes (invalid UTF-8, a literal)
    go into the JSON text as they are."""
    if field is None:
        return json.dumps(valid).encode()
    if isinstance(payload, Raw):
        return json.dumps({**valid, field: "@@k2@@"}).encode().replace(b'"@@k2@@"', payload)
    if isinstance(payload, bytes):
        return json.dumps({**valid, field: "@@k2@@"}).encode().replace(
            b'"@@k2@@"', b'"' + payload + b'"')
    return json.dumps({**valid, field: payload}, ensure_ascii=False).encode()


def form_body(valid: dict, field: str | None, payload):
    """A form post: a list sends the field several times; other JSON types as text."""
    from urllib.parse import urlencode

    if field is None:
        return urlencode(valid).encode()
    if isinstance(payload, bytes):
        value = [bytes(payload)]
    elif isinstance(payload, list):
        value = [str(v).encode() for v in payload[:1000]]
    elif isinstance(payload, str):
        value = [payload.encode()]
    else:
        value = [json.dumps(payload).encode()]
    pairs = [(k, v.encode()) for k, v in valid.items() if k != field]
    pairs += [(field, v) for v in value]
    return urlencode(pairs).encode()


def check(response, sent) -> list:
    """What is wrong with an answer: a 5xx, a traceback, a 4xx JSON that is not JSON."""
    text = response.get_data(as_text=True)
    wrong = []
    if response.status_code >= 500:
        wrong.append(("5xx", response.status_code, sent))
    if "Traceback" in text:
        wrong.append(("traceback", sent))
    if response.status_code >= 400 and response.mimetype == "application/json":
        try:
            json.loads(text)
        except ValueError:
            wrong.append(("broken JSON", sent))
    return wrong


def test_the_json_endpoints_are_found_from_the_url_map(app, org, make_quiz):
    """A new endpoint that reads JSON, or answers with it, must be added to the cases."""
    cases, *_ids = build_cases(app, org, make_quiz)
    assert json_endpoints(app) == {name: ("reply" if case.form else "body")
                                   for name, case in cases.items()}


@pytest.fixture()
def world(app, org, make_quiz):
    cases, quiz_id, assignment_id, material_id = build_cases(app, org, make_quiz)
    clients = {"teacher": logged_in(app, org.teacher), "admin": logged_in(app, org.admin)}
    teacher = clients["teacher"]
    attempt = teacher.post(f"/quizzes/{quiz_id}/start").location.rsplit("/", 1)[1]
    # Opening the material starts the reading the beats credit.
    assert teacher.get(f"/study/assignments/{assignment_id}/materials/{material_id}"
                       ).status_code == 200
    for case in cases.values():
        case.url = case.url.format(attempt=attempt)
        if case.shown_on:
            case.shown_on = case.shown_on.format(attempt=attempt)
    return cases, clients


def send(client, case: Case, body: bytes, content_type: str | None = None):
    default = "application/x-www-form-urlencoded" if case.form else "application/json"
    return client.post(case.url, data=body, content_type=content_type or default,
                       headers=case.headers or {})


@pytest.mark.parametrize("endpoint", [
    "quizzes.save_answer", "quizzes.record_event", "study.reading_beat",
    "study.save_reflection_draft", "sessions.save_session_reflection_draft",
    "study.answer_checkpoint", "sessions.mark_attendance"])
def test_hostile_values_in_every_json_field(endpoint, world):
    cases, clients = world
    case, client = cases[endpoint], clients[cases[endpoint].who]
    encode = form_body if case.form else json_body
    first = send(client, case, encode(case.valid, None, None))
    assert first.status_code == 200, (endpoint, first.get_data(as_text=True)[:300])
    plan = [(field, payload) for field in case.valid for payload in field_payloads()]
    if not FULL:
        plan = plan[len(endpoint) % 5::math.ceil(len(plan) / SHORT_POSTS)]
    wrong, live, statuses = [], [], {}
    for field, payload in plan:
        response = send(client, case, encode(case.valid, field, payload))
        sent = (field, repr(payload)[:60])
        wrong += check(response, sent)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if (response.status_code == 200 and field in case.shown_fields
                and isinstance(payload, str) and (MARKER in payload or "7331" in payload)):
            found = live_payload(client.get(case.shown_on).get_data(as_text=True))
            if found:
                live.append((sent, found[:2]))
    # The whole body: malformed, lying about its type, each field missing, none at all.
    bodies = [(body, None) for body in MALFORMED]
    bodies += [(encode(case.valid, None, None), kind) for kind in CONTENT_TYPES]
    for missing in case.valid:
        rest = {k: v for k, v in case.valid.items() if k != missing}
        bodies.append((encode(rest, None, None), None))
    bodies.append((b"{}" if not case.form else b"", None))
    for body, content_type in bodies:
        response = send(client, case, body, content_type)
        wrong += check(response, (content_type, body[:60]))
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    print(f"{endpoint}: {len(plan)} field posts + {len(bodies)} bodies, answers {statuses}")
    assert not wrong, wrong[:10]
    assert not live, live[:10]


# --- what the walk found -------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    b"[" * 5000 + b"]" * 5000,                           # json raised RecursionError: a 500
    b"{\"position\": 5, \"response\": " + b"[" * 3000 + b"]" * 3000 + b"}",
    b"{\"position\": 5, \"response\": NaN}",               # Python's extension, not JSON
    b"{\"position\": 5, \"response\": [Infinity]}",
])
@pytest.mark.parametrize("endpoint", ["quizzes.save_answer", "study.save_reflection_draft"])
def test_a_body_nested_too_deep_or_not_json_is_refused_with_a_400(world, endpoint, body):
    cases, clients = world
    case = cases[endpoint]
    response = send(clients[case.who], case, body)
    assert response.status_code == 400
    assert response.get_json()["error"]
