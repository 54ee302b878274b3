"""Hostile inputs through the edit pages (issue 12, item 2): the walk of
test_hostile_inputs.py over the create pages, repeated over each object's edit form.
Each object is made through its create page as a whole-tree admin; then every field of
its edit form gets the payloads of its kind while the other fields keep what the edit
page shows. No answer is a 5xx, and neither the page that answers nor the page a save
redirects to renders a payload as live markup or evaluates a template payload.

Study plans have no edit page: their items are added on the plan's page, so that form
(PlanItemForm) is walked instead."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from studyhall.bank import operations as bank_ops
from studyhall.bank.forms import CategoryForm, QuestionForm
from studyhall.bank.models import Question, QuestionCategory
from studyhall.extensions import db
from studyhall.org.forms import PersonForm, UnitForm
from studyhall.org.models import Person, Unit
from studyhall.quizzes.forms import QuizForm
from studyhall.quizzes.models import Quiz
from studyhall.sessions.forms import SessionForm
from studyhall.sessions.forms_plans import PlanItemForm
from studyhall.sessions.models import StudyPlan, StudySession
from studyhall.study.forms import AssignmentForm, MaterialForm
from studyhall.study.models import Assignment, Material
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
from tests.fuzz.payloads import live_payload

#: Posts per edit form in ``make test`` (HOSTILE=full sends every pair).
EDIT_POSTS = SHORT_POSTS // 3

#: kind → (the create page it is made on, its model, the edit page (GET, POST), its form)
EDITS = {
    "unit": ("unit", Unit, "/manage/units/{id}/edit", None, UnitForm),
    "person": ("person", Person, "/manage/people/{id}/edit", None, PersonForm),
    "question": ("question", Question, "/manage/bank/{id}/edit", None, QuestionForm),
    "category": (None, QuestionCategory, "/manage/bank/categories/{id}/edit", None,
                 CategoryForm),
    "quiz": ("quiz", Quiz, "/manage/quizzes/{id}/edit", None, QuizForm),
    "material": ("material", Material, "/manage/study/materials/{id}/edit", None,
                 MaterialForm),
    "assignment": ("assignment", Assignment, "/manage/study/assignments/{id}/edit", None,
                   AssignmentForm),
    "session": ("session", StudySession, "/manage/sessions/{id}/edit", None, SessionForm),
    "plan item": ("plan", StudyPlan, "/manage/sessions/plans/{id}",
                  "/manage/sessions/plans/{id}/items", PlanItemForm),
}


def make_object(client, kind: str) -> int:
    """Create one object of ``kind`` through its create page; its id."""
    page, model, *_rest = EDITS[kind]
    if page is None:
        category = bank_ops.create_category(None, "待编辑分类")
        db.session.commit()
        return category.id
    url, form_class, valid = PAGES[page]
    if kind == "question":  # the page sends to the categories until one exists
        bank_ops.create_category(None, "测试分类")
        db.session.commit()
    before = db.session.scalar(sa.select(sa.func.max(model.id))) or 0
    response = post(client, url, valid_values(client, url, form_class, valid))
    assert response.status_code in (200, 302), response.status_code
    db.session.expire_all()
    made = db.session.scalar(sa.select(sa.func.max(model.id)))
    assert made and made > before, kind
    return made


@pytest.mark.parametrize("kind", sorted(EDITS))
def test_hostile_values_in_every_field_of_the_edit_pages(kind, app, client, org, login):
    _page, _model, get_url, post_url, form_class = EDITS[kind]
    login(org.admin)
    object_id = make_object(client, kind)
    get_url = get_url.format(id=object_id)
    post_url = (post_url or get_url).format(id=object_id)
    assert client.get(get_url).status_code == 200
    with app.test_request_context():
        fields = list(form_class(meta={"csrf": False}))
    base = valid_values(client, get_url, form_class, {})
    first = post(client, post_url, base)
    assert first.status_code == 302, (kind, base)
    plan = [(field, payload) for field in fields for payload in payloads_for(field)]
    if not FULL:  # every k-th pair, as the create pages' walk, fewer: the create pages
        # already send every payload in `make test`; here each form's fields get a sample.
        plan = sample(plan, EDIT_POSTS)
    sent, saved, errors, live = walk(client, post_url, plan, lambda sent: dict(base))
    # The edit page itself shows what the last saves left.
    found = live_payload(client.get(get_url).get_data(as_text=True))
    print(f"{kind}: {sent} posts over {len(fields)} fields, {saved} saved and shown "
          f"(of {len([1 for f in fields for _p in payloads_for(f)])})")
    assert not errors, errors[:10]
    assert not live, live[:10]
    assert not found, found[:3]
