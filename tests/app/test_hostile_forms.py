"""Hostile inputs through every other form (issue 12, item 2): the forms the create, edit,
JSON and upload walks leave out (a quiz's audience and paper, grants, grading, reflection
writing and reviews, a session's record and its correction, leave, plan quotas and links,
unit settings, the archive, checkpoints, an assignment's items, login, password change,
check-in by code, the import confirmations), walked with the same corpus and the same
``walk()``: every field gets its kind's payloads while the other fields keep valid values;
no answer is a 5xx, and neither the answer nor the page a save redirects to shows a payload
as live markup or evaluates a template payload.

``test_every_form_endpoint_is_walked_or_exempt`` finds, from the URL map, every endpoint
that accepts POST and reads a form (a WTForms class reached from its view through the
functions and objects it calls, or ``request.form`` read directly): each must be walked
here or by the other walks, or be listed in EXEMPT with its reason. A new form endpoint
without an entry fails the suite."""

from __future__ import annotations

import dis
import inspect
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import sqlalchemy as sa
import wtforms as wt
from flask_wtf import FlaskForm
from werkzeug.local import LocalProxy

from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from tests.app.test_hostile_edit import EDITS, make_object
from tests.app.test_hostile_inputs import (
    FULL,
    PAGES,
    SHORT_POSTS,
    payloads_for,
    post,
    sample,
    valid_values,
    walk,
)
from tests.app.test_hostile_json import _codes, json_endpoints
from tests.factories import PASSWORD
from tests.fuzz.payloads import live_payload

#: Posts per form in ``make test`` (HOSTILE=full sends every pair): the 30-odd forms
#: here share the budget of the edit walk's nine.
FORM_POSTS = SHORT_POSTS // 10


# --- discovery from the URL map --------------------------------------------------------------

def reached_forms(view, depth: int = 3) -> tuple[set[str], bool]:
    """The WTForms classes a view reaches (through the app's functions it calls, and the
    methods and form attributes of the app's objects it uses, ``depth`` calls deep), and
    whether any of them reads ``request.form`` directly."""
    seen: set = set()
    forms: set[str] = set()
    reads = False

    def note(found, left: int) -> None:
        if inspect.isclass(found) and issubclass(found, FlaskForm):
            forms.add(found.__name__)
        elif inspect.ismethod(found):
            note(found.__func__, left)
        elif inspect.isfunction(found):
            if left:
                visit(found, left - 1)
        elif (not inspect.ismodule(found) and not inspect.isclass(found)
              and type(found).__module__.startswith("studyhall")):
            # An object of the app (an import flow): its class's methods and forms.
            for klass in type(found).__mro__:
                for value in vars(klass).values():
                    if inspect.isfunction(value) or (inspect.isclass(value)
                                                     and issubclass(value, FlaskForm)):
                        note(value, left)

    def visit(func, left: int) -> None:
        nonlocal reads
        func = inspect.unwrap(func)
        if func in seen or not getattr(func, "__module__", "").startswith("studyhall"):
            return
        seen.add(func)
        if "request.form" in inspect.getsource(func):
            reads = True
        for code in _codes(func.__code__):
            holder = None
            for ins in dis.get_instructions(code):
                found = None
                if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
                    found = func.__globals__.get(ins.argval)
                    # Not request, current_user, g: proxies read outside a request.
                    holder = found if inspect.ismodule(found) or (
                        not isinstance(found, LocalProxy)
                        and type(found).__module__.startswith("studyhall")) else None
                elif ins.opname in ("LOAD_ATTR", "LOAD_METHOD") and holder is not None:
                    found = (getattr(holder, ins.argval, None) if inspect.ismodule(holder)
                             else inspect.getattr_static(holder, ins.argval, None))
                    holder = None
                else:
                    holder = None
                if found is not None:
                    note(found, left)

    visit(view, depth)
    return forms, reads


_found: dict = {}


def form_endpoints(app) -> dict[str, tuple[set[str], bool]]:
    """endpoint → (form classes, reads request.form) for every POST rule that reads a
    form; endpoints that read none (JSON bodies, logout) are left to the JSON walk.
    (Read once a run: both databases' apps have the same URL map and views.)"""
    key = frozenset(app.view_functions)
    if key in _found:
        return _found[key]
    found = _found[key] = {}
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods:
            continue
        forms, reads = reached_forms(app.view_functions[rule.endpoint])
        if forms or reads:
            found[rule.endpoint] = (forms, reads)
    return found


BUTTON = "a button: ConfirmForm carries only the CSRF token, nothing typed"
#: Endpoints that read a form but have nothing a person types or picks to walk.
EXEMPT = {
    **{endpoint: BUTTON for endpoint in [
        "auth.end_other_sessions", "bank.delete_category", "bank.delete_question",
        "org.change_person_state", "org.change_unit_state", "org.reset_password",
        "quizzes.close_quiz", "quizzes.publish_quiz", "quizzes.regrade_question",
        "quizzes.take_over_attempt",
        "sessions.cancel_session", "sessions.confirm_record", "sessions.delete_attachment",
        "sessions.mark_all_present", "sessions.publish_session", "sessions.remove_plan_item",
        "sessions.withdraw_leave", "stats.restart_archive_job", "stats.restart_export_job",
        "study.archive_material", "study.close_assignment", "study.complete_material",
        "study.publish_assignment", "study.remind_readers", "study.remove_checkpoint"]},
}
#: Endpoints the upload walk (test_hostile_uploads.py) sends its lying files and hostile
#: file names to; their other fields are selects walked here too where they exist.
UPLOADS = {"org.import_roster", "bank.import_questions", "sessions.upload_attachments"}


def walked_elsewhere(app) -> dict[str, str]:
    """endpoint → the walk that covers it, read from the other walks' own tables."""
    adapter = app.url_map.bind("localhost")
    walked = {}
    for url, *_rest in PAGES.values():
        walked[adapter.match(url, method="POST")[0]] = "create pages"
    for _page, _model, get_url, post_url, _form in EDITS.values():
        walked[adapter.match((post_url or get_url).format(id=1), method="POST")[0]] = "edit pages"
    for endpoint in json_endpoints(app):
        walked[endpoint] = "JSON endpoints"
    for endpoint in UPLOADS:
        walked.setdefault(endpoint, "uploads")
    return walked


# --- the cases ---------------------------------------------------------------------------------

class Named:
    """A field of a form read from ``request.form`` without a WTForms class."""

    def __init__(self, name: str, kind=wt.StringField):
        self.name, self.kind = name, kind


def leaf_fields(form) -> list:
    """The fields a browser sends, FieldLists and FormFields flattened."""
    out = []
    for item in form:
        if isinstance(item, (wt.FieldList, wt.FormField)):
            out += leaf_fields(item)
        elif not isinstance(item, wt.HiddenField) or item.name != "csrf_token":
            out.append(item)
    return out


def kind_payloads(item) -> list:
    if isinstance(item, Named):
        return payloads_for(item.kind(name=item.name).bind(wt.Form(), item.name))
    return payloads_for(item)


@dataclass
class Case:
    get_url: str                   # the page whose form gives the valid values
    post_url: str
    form: type | None = None       # the WTForms class (None: ``named`` fields only)
    valid: dict = field(default_factory=dict)
    named: tuple = ()              # fields read from request.form directly
    form_args: tuple = ()
    reset: Callable[[], dict] | None = None  # before each post: put the object back
    client: object = None          # another client than the admin's
    only: tuple = ()               # walk only these fields of the form
    expect: int = 302              # what the valid post answers (a saved redirect)
    posts: int = FORM_POSTS        # posts in `make test` (slow pages, such as login, fewer)
    values: Callable[[], type] | None = None  # the dict type a post's values are built in


class World:
    """What the cases are built from: the app, the admin's client, the org, factories."""

    def __init__(self, app, client, org, login, make_quiz):
        self.app, self.client, self.org, self.login, self.make_quiz = app, client, org, login, \
            make_quiz

    def teacher(self):
        client = self.app.test_client()
        client.set_cookie("lang", "en")
        assert client.post("/login", data={"account": self.org.teacher.account,
                                           "password": PASSWORD}).status_code == 302
        return client

    def session(self, **values):
        from studyhall.sessions.models import Attendance, SessionKind, SessionStatus, StudySession
        now = utcnow()
        session = StudySession(**{
            "kind": SessionKind.THEME_DAY, "status": SessionStatus.PUBLISHED,
            "owner_unit_id": self.org.gen_a.id, "topic": "主题党日",
            "starts_at": now - timedelta(hours=2), "ends_at": now - timedelta(hours=1),
            "checkin_secret": "x" * 32, "published_at": now,
            "audience": {"unit_ids": [self.org.branch_a.id]}, **values})
        db.session.add(session)
        db.session.flush()
        db.session.add(Attendance(session_id=session.id, person_id=self.org.teacher.id,
                                  unit_id=self.org.teacher.unit_id,
                                  political_status=self.org.teacher.political_status))
        db.session.commit()
        return session


def _quiz_draft(w: World) -> int:
    return make_object(w.client, "quiz")


def case_quiz_audience(w):
    from studyhall.quizzes.forms import AudienceForm
    q = _quiz_draft(w)
    url = f"/manage/quizzes/{q}/audience"
    return Case(url, url, AudienceForm, {"unit_ids": str(w.org.branch_a.id)})


def case_quiz_paper_rules(w):
    from studyhall.quizzes.forms import RulesForm
    w.make_quiz()  # a bank of five questions in one category
    q = _quiz_draft(w)
    from studyhall.bank.models import QuestionCategory
    category = db.session.scalar(sa.select(QuestionCategory.id))
    url = f"/manage/quizzes/{q}/paper"
    return Case(url + "?kind=rules", url, RulesForm,
                {"rules-0-category_id": str(category), "rules-0-count": "1",
                 "rules-0-points": "5"}, form_args=())


def _draft_and_first_question(w) -> tuple[int, int]:
    """A draft quiz's id and the bank's first question's id."""
    from studyhall.bank.models import Question
    w.make_quiz()
    return _quiz_draft(w), db.session.scalar(sa.select(sa.func.min(Question.id)))


def case_quiz_paper_add(w):
    from studyhall.quizzes.forms import PickQuestionsForm
    q, first = _draft_and_first_question(w)
    return Case(f"/manage/quizzes/{q}/paper", f"/manage/quizzes/{q}/paper/add",
                PickQuestionsForm, {"question_ids": str(first)})


def case_quiz_paper_remove(w):
    from studyhall.quizzes.forms import RemoveQuestionForm
    q, first = _draft_and_first_question(w)
    return Case(f"/manage/quizzes/{q}/paper", f"/manage/quizzes/{q}/paper/remove",
                RemoveQuestionForm, {"question_id": str(first)})


def case_quiz_grant(w):
    from studyhall.quizzes.forms import GrantForm
    quiz = w.make_quiz()
    t = w.org.teacher.id
    return Case(f"/manage/quizzes/{quiz.id}/participants/{t}",
                f"/manage/quizzes/{quiz.id}/participants/{t}/grant", GrantForm,
                {"attempts": "1", "minutes": "5"})


def case_quiz_grading(w):
    from studyhall.quizzes import taking
    from studyhall.quizzes.forms import GradeForm
    from studyhall.quizzes.models import AttemptQuestion
    quiz = w.make_quiz()
    attempt = taking.start_attempt(quiz, taking.recipient_of(quiz, w.org.teacher))
    taking.save_answer(attempt, 5, "三会一课", None, attempt.session_token)
    taking.finish_attempt(attempt, utcnow())
    db.session.commit()
    key = (attempt.id, 5)

    def reset():  # ungraded again, so each score is a first score
        db.session.execute(sa.update(AttemptQuestion).where(
            AttemptQuestion.attempt_id == key[0], AttemptQuestion.position == key[1])
            .values(score=None, graded_by_id=None))
        db.session.commit()
        return {}

    url = f"/manage/quizzes/{quiz.id}/grading"
    return Case(url, url, GradeForm, {"attempt_id": str(attempt.id), "position": "5",
                                      "score": "10", "expected": ""},
                named=(Named("attempt_id", wt.IntegerField), Named("position", wt.IntegerField)),
                reset=reset)


def case_session_audience(w):
    from studyhall.quizzes.forms import AudienceForm
    s = make_object(w.client, "session")
    url = f"/manage/sessions/{s}/audience"
    return Case(url, url, AudienceForm, {"unit_ids": str(w.org.branch_a.id)})


def case_assignment_audience(w):
    from studyhall.quizzes.forms import AudienceForm
    a = make_object(w.client, "assignment")
    url = f"/manage/study/assignments/{a}/audience"
    return Case(url, url, AudienceForm, {"unit_ids": str(w.org.branch_a.id)})


def case_assignment_add_material(w):
    from studyhall.study.forms import AddMaterialForm
    m = make_object(w.client, "material")
    a = make_object(w.client, "assignment")
    return Case(f"/manage/study/assignments/{a}", f"/manage/study/assignments/{a}/items/material",
                AddMaterialForm, {"material_id": str(m), "min_reading_minutes": "3"})


def case_assignment_add_quiz(w):
    from studyhall.study.forms import AddQuizForm
    quiz = w.make_quiz()
    a = make_object(w.client, "assignment")
    return Case(f"/manage/study/assignments/{a}", f"/manage/study/assignments/{a}/items/quiz",
                AddQuizForm, {"quiz_id": str(quiz.id)})


def case_assignment_remove_item(w):
    from studyhall.study.forms import RemoveItemForm
    from studyhall.study.models import AssignmentItem
    m = make_object(w.client, "material")
    a = make_object(w.client, "assignment")
    w.client.post(f"/manage/study/assignments/{a}/items/material", data={"material_id": m})
    item = db.session.scalar(sa.select(sa.func.max(AssignmentItem.id)))
    return Case(f"/manage/study/assignments/{a}", f"/manage/study/assignments/{a}/items/remove",
                RemoveItemForm, {"item_id": str(item)})


def case_place_checkpoint(w):
    from studyhall.bank.models import Question
    from studyhall.study.routes_checkpoints import PlaceCheckpointForm
    w.make_quiz()
    m = make_object(w.client, "material")
    question = db.session.scalar(sa.select(sa.func.min(Question.id)))
    url = f"/manage/study/materials/{m}/checkpoints"
    return Case(url, url, PlaceCheckpointForm, {"question_id": str(question), "anchor": "0"})


#: A reflection long enough for any target.
LONG = "学习心得体会：坚定理想信念，立德树人。" * 20


def _study_reflection(w):
    """A published assignment asking for a reflection, for 甲校第一支部."""
    from tests.app.study_fixtures_s3 import create_assignment
    assignment = create_assignment(w.org.gen_a, {"unit_ids": [w.org.branch_a.id]}, min_chars=2)
    db.session.commit()
    return assignment.id


def _writable_again(reflection_filter) -> dict:
    from studyhall.study.models import Reflection, ReflectionStatus, ReflectionVersion
    reflection = db.session.scalar(sa.select(Reflection).where(reflection_filter))
    if reflection is None:
        return {}
    reflection.status = ReflectionStatus.RETURNED
    latest = db.session.scalar(sa.select(sa.func.max(ReflectionVersion.number)).where(
        ReflectionVersion.reflection_id == reflection.id)) or 0
    db.session.commit()
    return {"based_on": str(latest)}


def case_study_reflection_submit(w):
    from studyhall.study.models import Reflection
    from studyhall.study.reflection_forms import ReflectionForm
    a = _study_reflection(w)
    return Case(f"/study/assignments/{a}/reflection", f"/study/assignments/{a}/reflection/submit",
                ReflectionForm, {"body": "学习心得体会", "based_on": "0"}, client=w.teacher(),
                reset=lambda: _writable_again(Reflection.assignment_id == a))


def case_session_reflection_submit(w):
    from studyhall.study.models import Reflection
    from studyhall.study.reflection_forms import ReflectionForm
    s = w.session().id
    return Case(f"/sessions/{s}/reflection", f"/sessions/{s}/reflection/submit",
                ReflectionForm, {"body": LONG, "based_on": "0"}, client=w.teacher(),
                reset=lambda: _writable_again(Reflection.session_id == s))


def _review_case(w, reflection_filter, submit_url, reflection_page):
    from studyhall.study.models import Reflection, ReflectionStatus, ReflectionVersion
    from studyhall.study.reflection_forms import ReviewForm
    teacher = w.teacher()
    assert teacher.get(reflection_page).status_code == 200
    response = teacher.post(submit_url, data={"body": LONG, "based_on": "0"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    r = db.session.scalar(sa.select(Reflection.id).where(reflection_filter))

    def reset():  # unreviewed again, so each decision is a first decision
        db.session.execute(sa.update(ReflectionVersion).where(
            ReflectionVersion.reflection_id == r).values(decision=None, reviewer_id=None,
                                                         reviewed_at=None))
        db.session.execute(sa.update(Reflection).where(Reflection.id == r).values(
            status=ReflectionStatus.SUBMITTED, is_excellent=False, shared_at=None))
        db.session.commit()
        return {}

    return Case(f"/manage/study/reflections/{r}", f"/manage/study/reflections/{r}/review",
                ReviewForm, {"version": "1", "decision": "returned", "comment": "请补充"},
                reset=reset)


def case_study_review(w):
    from studyhall.study.models import Reflection
    a = _study_reflection(w)
    return _review_case(w, Reflection.assignment_id == a,
                        f"/study/assignments/{a}/reflection/submit",
                        f"/study/assignments/{a}/reflection")


def case_session_review(w):
    from studyhall.study.models import Reflection
    s = w.session().id
    return _review_case(w, Reflection.session_id == s, f"/sessions/{s}/reflection/submit",
                        f"/sessions/{s}/reflection")


def case_study_excellent(w):
    from studyhall.study.models import Reflection
    from studyhall.study.reflection_forms import ExcellentForm
    a = _study_reflection(w)
    review = _review_case(w, Reflection.assignment_id == a,
                          f"/study/assignments/{a}/reflection/submit",
                          f"/study/assignments/{a}/reflection")
    assert w.client.post(review.post_url, data=review.valid | {"decision": "accepted",
                                                               "comment": ""}).status_code == 302
    r = review.get_url.rsplit("/", 1)[1]
    return Case(review.get_url, f"/manage/study/reflections/{r}/excellent", ExcellentForm,
                {"excellent": "1"})


def case_session_record(w):
    from studyhall.sessions.forms import RecordForm
    s = w.session().id
    url = f"/manage/sessions/{s}/record"
    return Case(url, url, RecordForm, {"minutes": "# 会议记录\n\n- 学习", "resolutions": "一"})


def case_session_reopen(w):
    from studyhall.sessions.forms import ReopenForm
    from studyhall.sessions.models import SessionStatus, StudySession
    session = w.session(minutes="记录", status=SessionStatus.PUBLISHED)
    s = session.id
    assert w.client.post(f"/manage/sessions/{s}/roster/all-present").status_code == 302
    confirmed = w.client.post(f"/manage/sessions/{s}/record/confirm")
    assert confirmed.status_code == 302

    def reset():  # confirmed again, so each correction reopens it
        db.session.execute(sa.update(StudySession).where(StudySession.id == s).values(
            record_locked_at=utcnow()))
        db.session.commit()
        return {}

    url = f"/manage/sessions/{s}/record/reopen"
    # The record's history shows each correction's reason.
    return Case(f"/manage/sessions/{s}/record/history", url, ReopenForm,
                {"reason": "更正出席人数"}, reset=reset)


def case_request_leave(w):
    from studyhall.sessions.forms import LeaveRequestForm
    from studyhall.sessions.models import Attendance
    now = utcnow()
    s = w.session(starts_at=now + timedelta(days=2),
                  ends_at=now + timedelta(days=2, hours=1)).id

    def reset():  # no request yet, so each reason is a new request
        db.session.execute(sa.update(Attendance).where(Attendance.session_id == s).values(
            leave_reason="", leave_state=None, leave_requested_at=None))
        db.session.commit()
        return {}

    return Case(f"/sessions/{s}", f"/sessions/{s}/leave", LeaveRequestForm,
                {"reason": "外出培训"}, client=w.teacher(), reset=reset)


def case_decide_leave(w):
    from studyhall.sessions.models import Attendance, LeaveState
    now = utcnow()
    s = w.session(starts_at=now + timedelta(days=2),
                  ends_at=now + timedelta(days=2, hours=1)).id
    teacher = w.teacher()
    assert teacher.post(f"/sessions/{s}/leave", data={"reason": "外出培训"}).status_code == 302

    def reset():  # requested again, so each decision is a first decision
        db.session.execute(sa.update(Attendance).where(Attendance.session_id == s).values(
            leave_state=LeaveState.REQUESTED, leave_decided_by_id=None, leave_decided_at=None))
        db.session.commit()
        return {}

    return Case(f"/manage/sessions/{s}", f"/manage/sessions/{s}/leave/{w.org.teacher.id}",
                None, {"decision": "approve", "back": "roster"},
                named=(Named("decision", wt.SelectField), Named("back")), reset=reset)


def _plan(w) -> int:
    return make_object(w.client, "plan item")


def case_plan_quotas(w):
    from studyhall.sessions.forms_plans import FillQuotasForm
    p = _plan(w)
    return Case(f"/manage/sessions/plans/{p}", f"/manage/sessions/plans/{p}/quotas",
                FillQuotasForm, {"topic": "待定"})


def case_plan_link(w):
    from studyhall.sessions.forms_plans import LinkSessionForm
    from studyhall.sessions.models import StudyPlanItem
    p = _plan(w)
    w.client.post(f"/manage/sessions/plans/{p}/quotas", data={"topic": "待定"})
    item = db.session.scalar(sa.select(sa.func.min(StudyPlanItem.id)))
    return Case(f"/manage/sessions/plans/{p}", f"/manage/sessions/plans/{p}/items/{item}/link",
                LinkSessionForm, {"session_id": "0"})


def case_unit_settings(w):
    from studyhall.sessions.forms import UnitSettingsForm
    url = f"/manage/sessions/settings?unit={w.org.gen_a.id}"
    return Case(url, url, UnitSettingsForm, {"record_working_days": "5"})


def case_archive(w):
    from studyhall.exports.forms import ArchiveForm
    return Case("/manage/stats/archive", "/manage/stats/archive", ArchiveForm,
                {"unit_id": str(w.org.gen_a.id)}, only=("unit_id", "start", "end"))


def case_bank_category(w):
    from studyhall.bank.forms import CategoryForm
    return Case("/manage/bank/categories", "/manage/bank/categories", CategoryForm, {})


CODED = ("题型,题干,选项一内容,选项二内容,选项A是否正确,选项B是否正确,正确答案\n"
         "1,问一,甲,乙,0,1,\n2,问二,甲,乙,1,1,\n3,对吗,,,,,对\n")


def _question_upload(w) -> str:
    page = w.client.post("/manage/bank/import", data={
        "file": (io.BytesIO(CODED.encode()), "coded.csv"), "format": "", "category_id": 0},
        content_type="multipart/form-data").get_data(as_text=True)
    return re.search(r'name="token" value="([^"]+)"', page).group(1)


def case_bank_type_codes(w):
    token = _question_upload(w)
    return Case("/manage/bank/import", "/manage/bank/import/type-codes", None,
                {"token": token, "code-1": "single", "code-2": "multiple",
                 "code-3": "true_false"},
                named=(Named("token"), Named("code-1", wt.SelectField), Named("code-2"),
                       Named("code-3", wt.SelectField), Named("code-99")))


def case_bank_confirm(w):
    from studyhall.bank.forms import QuestionImportConfirmForm
    token = _question_upload(w)
    w.client.post("/manage/bank/import/type-codes", data={
        "token": token, "code-1": "single", "code-2": "multiple", "code-3": "true_false"})
    return Case("/manage/bank/import", "/manage/bank/import/confirm", QuestionImportConfirmForm,
                {"token": token, "duplicates": "skip"})


def case_bank_import_fields(w):
    from studyhall.bank.forms import QuestionImportForm
    return Case("/manage/bank/import", "/manage/bank/import", QuestionImportForm,
                {"format": "", "category_id": "0"}, only=("format", "category_id"),
                expect=200)  # the file is the upload walk's: here "choose a file" each time


def case_roster_fields(w):
    from studyhall.org.forms import RosterUploadForm
    return Case("/manage/roster", "/manage/roster", RosterUploadForm,
                {"new_units_parent": "0", "create_units": "y"}, only=("new_units_parent",),
                expect=200)  # the file is the upload walk's: here "choose a file" each time


def case_roster_confirm(w):
    csv = "姓名,工号,单位\n钱老师,q1,甲校第一支部\n".encode()
    page = w.client.post("/manage/roster", data={"file": (io.BytesIO(csv), "r.csv")},
                         content_type="multipart/form-data").get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', page)
    return Case("/manage/roster", "/manage/roster/confirm", None,
                {"token": token.group(1) if token else "x"}, named=(Named("token"),))


def case_login(w):
    from studyhall.auth.forms import LoginForm
    from studyhall.auth.models import LoginFailure
    anonymous = w.app.test_client()
    anonymous.set_cookie("lang", "en")

    def reset():  # no failed-login limit reached: each post is read to its end
        db.session.execute(sa.delete(LoginFailure))
        db.session.commit()
        anonymous.post("/logout")
        return {}

    return Case("/login", "/login", LoginForm, {"account": "t1", "password": PASSWORD},
                client=anonymous, reset=reset, posts=FORM_POSTS // 2)


def case_change_password(w):
    from studyhall.auth.forms import ChangePasswordForm
    from studyhall.org.models import Person, hash_password
    teacher = w.teacher()
    pid = w.org.teacher.id

    light = hash_password(PASSWORD, initial=True)  # the factories' light hash

    def reset():  # the old password again (this browser kept signed in by its change)
        db.session.execute(sa.update(Person).where(Person.id == pid).values(
            password_hash=light))
        db.session.commit()
        return {}

    new = "Zhang-laoshi-2026!"

    class Repeated(dict):
        """The new password typed twice: a payload in it reaches the checks and the save,
        not only "the two passwords differ"."""

        def __setitem__(self, key, value):
            super().__setitem__(key, value)
            if key == "new_password":
                super().__setitem__("confirm", value)

    def reset_and_repeat():
        reset()
        return Repeated
    return Case("/account/password", "/account/password", ChangePasswordForm,
                {"current_password": PASSWORD, "new_password": new, "confirm": new},
                form_args=(None,), client=teacher, reset=reset, posts=FORM_POSTS // 2,
                values=reset_and_repeat)


def case_checkin_code(w):
    from studyhall.sessions.routes_checkin import CheckinCodeForm
    w.session()
    return Case("/checkin", "/checkin", CheckinCodeForm, {"code": "123456"}, client=w.teacher(),
                expect=403)  # no session shows this code: refused, the walk still reads it


CASES: dict[str, Callable[[World], Case]] = {
    "quizzes.edit_audience": case_quiz_audience,
    "quizzes.edit_paper": case_quiz_paper_rules,
    "quizzes.add_paper_questions": case_quiz_paper_add,
    "quizzes.remove_paper_question": case_quiz_paper_remove,
    "quizzes.grant_extra": case_quiz_grant,
    "quizzes.grade_answers": case_quiz_grading,
    "sessions.edit_session_audience": case_session_audience,
    "study.edit_audience": case_assignment_audience,
    "study.add_material": case_assignment_add_material,
    "study.add_quiz": case_assignment_add_quiz,
    "study.remove_item": case_assignment_remove_item,
    "study.place_checkpoint": case_place_checkpoint,
    "study.submit_reflection": case_study_reflection_submit,
    "sessions.submit_session_reflection": case_session_reflection_submit,
    "study.decide_reflection": case_study_review,
    "study.decide_reflection (session)": case_session_review,
    "study.mark_reflection_excellent": case_study_excellent,
    "sessions.edit_record": case_session_record,
    "sessions.reopen_record": case_session_reopen,
    "sessions.request_leave": case_request_leave,
    "sessions.decide_leave": case_decide_leave,
    "sessions.fill_plan_quotas": case_plan_quotas,
    "sessions.link_plan_item": case_plan_link,
    "sessions.edit_unit_settings": case_unit_settings,
    "stats.archive_form": case_archive,
    "bank.list_categories": case_bank_category,
    "bank.confirm_type_codes": case_bank_type_codes,
    "bank.confirm_import": case_bank_confirm,
    "bank.import_questions (fields)": case_bank_import_fields,
    "org.import_roster (fields)": case_roster_fields,
    "org.confirm_roster": case_roster_confirm,
    "auth.login": case_login,
    "auth.change_password": case_change_password,
    "sessions.checkin_by_code": case_checkin_code,
}


def test_every_form_endpoint_is_walked_or_exempt(app):
    """A new endpoint that reads a form must be walked (here or by another walk) or be
    exempt with its reason; an entry for an endpoint that no longer reads a form goes."""
    found = form_endpoints(app)
    walked = walked_elsewhere(app) | {name.split(" ")[0]: "forms" for name in CASES}
    missing = sorted(set(found) - set(walked) - set(EXEMPT))
    assert not missing, f"walk these forms or exempt them with a reason: {missing}"
    stale = sorted((set(EXEMPT) | {n.split(" ")[0] for n in CASES}) - set(found))
    assert not stale, f"these no longer read a form: {stale}"
    assert not set(EXEMPT) & set(walked), "exempt and walked both"
    # Exemptions are buttons: nothing but ConfirmForm, nothing read from request.form.
    for endpoint, reason in EXEMPT.items():
        if reason == BUTTON:
            assert found[endpoint] == ({"ConfirmForm"}, False), (endpoint, found[endpoint])


def test_the_discovery_finds_forms_behind_helpers_and_objects(app):
    """The discovery must see through a helper (reflection views), an import flow's object
    and a form read by hand, or the completeness test could pass by missing them."""
    found = form_endpoints(app)
    assert "ReflectionForm" in found["study.submit_reflection"][0]
    assert "QuestionImportConfirmForm" in found["bank.confirm_import"][0]
    assert found["bank.confirm_type_codes"][1] and found["sessions.decide_leave"][1]
    assert "auth.logout" not in found and "quizzes.save_answer" not in found


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_values_in_every_other_form(name, app, client, org, login, make_quiz):
    login(org.admin)
    case = CASES[name](World(app, client, org, login, make_quiz))
    who = case.client or client
    assert who.get(case.get_url).status_code == 200, (name, case.get_url)
    fields: list = list(case.named)
    if case.form is not None:
        with app.test_request_context():
            form = case.form(*case.form_args, meta={"csrf": False})
            fields += [f for f in leaf_fields(form) if not case.only or f.name in case.only]
    form_class = case.form or type("Named", (wt.Form,), {})
    if case.form is not None and case.form_args:
        form_class = type(case.form.__name__, (case.form,), {
            "__init__": lambda self, *a, **k: case.form.__init__(self, *case.form_args, *a, **k)})
    base = valid_values(who, case.get_url, form_class, case.valid)
    base = {k: v for k, v in base.items() if k in {f.name for f in fields} | set(case.valid)}
    first = post(who, case.post_url, {**base, **(case.reset() if case.reset else {})})
    assert first.status_code == case.expect, (name, base)
    plan = [(f, payload) for f in fields for payload in kind_payloads(f)]
    total = len(plan)
    if not FULL:
        plan = sample(plan, case.posts)

    def values_for(_sent: int) -> dict:
        if case.values:
            return case.values()(base)
        return {**base, **(case.reset() if case.reset else {})}

    # The posts must reach the form the case names (not a 404 or a login page).
    made: set[str] = set()
    original = FlaskForm.__init__

    def recording(self, *args, **kwargs):
        made.add(type(self).__name__)
        original(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(FlaskForm, "__init__", recording)
        sent, shown, errors, live = walk(who, case.post_url, plan, values_for)
    assert case.form is None or case.form.__name__ in made, (name, made)
    found = live_payload(who.get(case.get_url).get_data(as_text=True))
    print(f"{name}: {sent} posts over {len(fields)} fields, {shown} redirects followed "
          f"(of {total})")
    assert not errors, errors[:10]
    assert not live, live[:10]
    assert not found, found[:3]


# --- what the walk found -----------------------------------------------------------------------

@pytest.mark.parametrize("value", ["2147483648", "9" * 30])
def test_an_item_or_checkpoint_id_past_the_range_is_refused_not_a_500(client, org, login,
                                                                      make_quiz, value):
    """Found by the walk: an assignment's add-material and a material's checkpoint looked
    the typed id up unchecked (OverflowError on SQLite, a 500 on PostgreSQL too)."""
    login(org.admin)
    m = make_object(client, "material")
    a = make_object(client, "assignment")
    added = client.post(f"/manage/study/assignments/{a}/items/material",
                        data={"material_id": value})
    assert added.status_code == 404
    placed = client.post(f"/manage/study/materials/{m}/checkpoints",
                         data={"question_id": value, "anchor": "0"})
    assert placed.status_code == 400
    quiz = client.post(f"/manage/study/assignments/{a}/items/quiz", data={"quiz_id": value})
    assert quiz.status_code < 500
    draft = make_object(client, "quiz")
    picked = client.post(f"/manage/quizzes/{draft}/paper/add", data={"question_ids": value})
    assert picked.status_code == 302


def test_an_import_token_with_a_nul_names_no_upload(client, org, login):
    """Found by the walk on PostgreSQL: the type-codes step reads the token from
    request.form by hand (the forms drop NUL, this did not), a 500."""
    login(org.admin)
    response = client.post("/manage/bank/import/type-codes", data={"token": "ab\x00c"})
    assert response.status_code == 302
