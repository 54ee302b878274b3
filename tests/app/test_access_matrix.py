"""The access-control matrix, generated from the URL map (issue 12, item 1).

Every rule of ``app.url_map`` (static aside) is requested by six viewers, once with the
URL's ids naming objects inside unit A's subtree (甲校党总支) and once naming objects in
unit B's (乙校党总支), and the answer is compared with ACCESS below. An endpoint without
an entry in ACCESS fails the suite.

Viewers: anonymous; a teacher of A; the secretary of A; the secretary of B; a unit admin
managing A only; the admin of the whole tree. "in" means the URL names A's objects
(inside the scope of the teacher, A's secretary and the unit admin), "out" names B's.

Answers (one token per viewer, or ``in/out`` when the two differ):
  ok      2xx or 3xx (a redirect that is not to the login page)
  login   302 to /login (anonymous on a page)
  401     a JSON endpoint's answer to a signed-out request
  403     the role may not use the page at all (@staff_required, @admin_required: the app
          answers 403 for a role, 404 for an object outside the viewer's scope)
  404     no such object for this viewer: outside their scope, or not theirs
  400/422 past the gate: a validation answer to the empty body (the form's fields are
          missing); 409 the attempt or draft is already submitted; 410 an expired
          check-in (no scan pending in this browser)
A 404, and any refusal of a viewer outside the objects' subtree, must not show their
titles or names; no case may be 5xx.

Writes are sent with an empty body (JSON_BODIES for the JSON endpoints). TestingConfig
sets WTF_CSRF_ENABLED = False, so the gate is tested without a token (CSRF itself is
tested in tests/app/test_app.py). Each write runs in a transaction that is rolled back
after it (rolled_back), so one world per database serves every case and a write let
through cannot change what the next case sees.

To see what the app answers now (for a new endpoint's line): ACCESS_DISCOVER=/tmp/out.tsv
records every case's answer instead of comparing it.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask import Flask

import question_bank as qb
from studyhall.audience import query_audience
from studyhall.extensions import db
from studyhall.model_helpers import utcnow
from studyhall.org import operations as org_ops
from studyhall.org.models import Person, PoliticalStatus, Role, UnitKind
from tests.app.session_fixtures_e3 import png
from tests.factories import PASSWORD

VIEWERS = ["anonymous", "teacher", "secretary_a", "secretary_b", "unit_admin", "admin"]
SIDES = ["in", "out"]

# -- The expected answers --------------------------------------------------------------------
# endpoint: "anonymous teacher secretary_a secretary_b unit_admin admin"
ACCESS: dict[str, str] = {
    "audit_log.export_entries": "login 404 404 404 ok ok",
    "audit_log.list_entries": "login 404 404 404 ok ok",  # admins only: 404 to others
    "auth.change_password": "login ok ok ok ok ok",
    "auth.end_other_sessions": "login ok ok ok ok ok",
    "auth.list_sessions": "login ok ok ok ok ok",
    "auth.login": "ok ok ok ok ok ok",
    "auth.logout": "login login login login login login",
    "bank.confirm_import": "login 403 403 403 ok ok",
    "bank.confirm_type_codes": "login 403 403 403 ok ok",
    "bank.create_question": "login 403 403 403 ok ok",
    "bank.delete_category": "login 403 403 403 ok ok",
    "bank.delete_question": "login 403 403 403 ok ok",
    "bank.download_template": "login 403 403 403 ok ok",
    "bank.edit_category": "login 403 403 403 ok ok",
    "bank.edit_question": "login 403 403 403 ok ok",
    "bank.export_questions": "login 403 403 403 ok ok",
    "bank.import_questions": "login 403 403 403 ok ok",
    "bank.list_categories": "login 403 403 403 ok ok",
    "bank.list_questions": "login 403 403 403 ok ok",
    "bank.preview_import": "login 403 403 403 ok ok",
    "main.healthz": "ok ok ok ok ok ok",
    "main.index": "login ok ok ok ok ok",
    "main.set_language": "ok ok ok ok ok ok",
    "org.change_person_state": "login 403 ok/404 404/ok ok/404 ok",
    "org.change_unit_state": "login 403 ok/404 404/ok ok/404 ok",
    "org.confirm_roster": "login 403 ok ok ok ok",
    "org.create_person": "login 403 ok ok ok ok",
    "org.create_unit": "login 403 ok ok ok ok",
    "org.download_roster_template": "login 403 ok ok ok ok",
    "org.edit_person": "login 403 ok/404 404/ok ok/404 ok",
    "org.edit_unit": "login 403 ok/404 404/ok ok/404 ok",
    "org.import_roster": "login 403 ok ok ok ok",
    "org.list_people": "login 403 ok ok ok ok",
    "org.list_units": "login 403 ok ok ok ok",
    "org.preview_roster": "login 403 ok ok ok ok",
    "org.reset_password": "login 403 ok/404 404/ok ok/404 ok",
    "org.show_unit": "login 403 ok/404 404/ok ok/404 ok",
    "quizzes.add_paper_questions": "login 403 ok/404 404/ok ok/404 ok",
    "quizzes.close_quiz": "login 403 ok/404 404/ok ok/404 ok",
    "quizzes.create_quiz": "login 403 ok ok ok ok",
    "quizzes.edit_audience": "login 403 ok/404 404/ok ok/404 ok",
    "quizzes.edit_paper": "login 403 ok/404 404/ok ok/404 ok",
    "quizzes.edit_quiz": "login 403 ok/404 404/ok ok/404 ok",
    "quizzes.grade_answers": "login 403 ok/404 404/ok ok/404 ok",
    "quizzes.grant_extra": "login 403 ok/404 404/ok ok/404 ok",
    "quizzes.list_managed_quizzes": "login 403 ok ok ok ok",
    "quizzes.list_my_quizzes": "login ok ok ok ok ok",
    "quizzes.list_participants": "login 403 ok/404 404/ok ok/404 ok",
    "quizzes.publish_quiz": "login 403 ok/404 404/ok ok/404 ok",
    "quizzes.record_event": "401 409/404 404 404 404 404",
    "quizzes.regrade_question": "login 403 ok/404 404/ok ok/404 ok",
    "quizzes.remove_paper_question": "login 403 ok/404 404/ok ok/404 ok",
    "quizzes.save_answer": "401 409/404 404 404 404 404",  # 409: the attempt is submitted
    "quizzes.show_managed_quiz": "login 403 ok/404 404/ok ok/404 ok",
    "quizzes.show_person_attempts": "login 403 ok/404 404/ok ok/404 ok",
    "quizzes.show_quiz": "login ok/404 404 404 404 404",
    "quizzes.show_result": "login ok/404 404 404 404 404",
    "quizzes.start_quiz": "login ok/404 404 404 404 404",
    "quizzes.submit_attempt": "login ok/404 404 404 404 404",
    "quizzes.take_attempt": "login ok/404 404 404 404 404",
    "quizzes.take_over_attempt": "login ok/404 404 404 404 404",
    "sessions.add_plan_item": "login 403 422/404 404/422 422/404 422",
    "sessions.attachment_file": "login 404 ok/404 404/ok ok/404 ok",
    "sessions.cancel_session": "login 403 ok/404 404/ok ok/404 ok",
    "sessions.checkin_by_code": "login ok ok ok ok ok",
    "sessions.checkin_screen": "login 404 ok/404 404/ok ok/404 ok",
    "sessions.checkin_screen_state": "login 404 ok/404 404/ok ok/404 ok",
    "sessions.confirm_record": "login 404 ok/404 404/ok ok/404 ok",
    "sessions.create_plan": "login 403 ok ok ok ok",
    "sessions.create_session": "login 403 ok ok ok ok",
    "sessions.decide_leave": "login 403 400/404 404/400 400/404 400",
    "sessions.delete_attachment": "login 404 ok/404 404/ok ok/404 ok",
    "sessions.download_attendance_sheet": "login 403 404 404 404 404",  # no ?ids=
    "sessions.download_session_record": "login 404 ok/404 404/ok ok/404 ok",
    "sessions.edit_record": "login 404 ok/404 404/ok ok/404 ok",
    "sessions.edit_session": "login 403 ok/404 404/ok ok/404 ok",
    "sessions.edit_session_audience": "login 403 ok/404 404/ok ok/404 ok",
    "sessions.edit_unit_settings": "login 403 ok ok ok ok",
    "sessions.fill_plan_quotas": "login 403 ok/404 404/ok ok/404 ok",
    "sessions.finish_checkin": "login 410 410 410 410 410",  # 410: no scan pending in this browser
    "sessions.link_plan_item": "login 403 ok/404 404/ok ok/404 ok",
    "sessions.list_checkins": "login 404 ok/404 404/ok ok/404 ok",
    "sessions.list_managed_sessions": "login 403 ok ok ok ok",
    "sessions.list_my_sessions": "login ok ok ok ok ok",
    "sessions.list_plans": "login 403 ok ok ok ok",
    "sessions.list_session_reflections": "login 403 ok/404 404/ok ok/404 ok",
    "sessions.mark_all_present": "login 404 ok/404 404/ok ok/404 ok",
    "sessions.mark_attendance": "login 404 400/404 404/400 400/404 400",
    "sessions.plans_overview": "login 403 ok ok ok ok",
    "sessions.print_attendance_record": "login 404 ok/404 404/ok ok/404 ok",
    "sessions.print_sign_in_sheet": "login 404 ok/404 404/ok ok/404 ok",
    "sessions.publish_session": "login 403 ok/404 404/ok ok/404 ok",
    "sessions.read_session_material": "login ok/404 404 404 404 404",
    "sessions.remove_plan_item": "login 403 ok/404 404/ok ok/404 ok",
    "sessions.reopen_record": "login 404 ok/404 404/ok ok/404 ok",
    "sessions.request_leave": "login 422/404 404 404 404 404",
    "sessions.save_session_reflection_draft": "401 ok/404 404 404 404 404",
    "sessions.scan_checkin": "login ok/404 404 404 404 404",  # 404: not on its list
    "sessions.show_checkin": "login ok/404 404 404 404 404",
    "sessions.show_managed_session": "login 403 ok/404 404/ok ok/404 ok",
    "sessions.show_my_session": "login ok/404 404 404 404 404",
    "sessions.show_plan": "login 403 ok/404 404/ok ok/404 ok",
    "sessions.show_record_history": "login 404 ok/404 404/ok ok/404 ok",
    "sessions.show_roster": "login 404 ok/404 404/ok ok/404 ok",
    "sessions.submit_session_reflection": "login 400/404 404 404 404 404",
    "sessions.upload_attachments": "login 404 422/404 404/422 422/404 422",
    "sessions.withdraw_leave": "login ok/404 404 404 404 404",
    "sessions.write_session_reflection": "login ok/404 404 404 404 404",
    "stats.archive_form": "login 403 ok ok ok ok",
    "stats.archive_job_status": "login 403 ok/404 404/ok 404 404",
    "stats.download_archive": "login 403 404 404 404 404",  # 404: the job has no built archive
    "stats.download_export_job": "login 403 ok/404 404/ok 404 404",
    "stats.download_report": "login 403 ok ok ok ok",
    "stats.export_job_status": "login 403 ok/404 404/ok 404 404",
    "stats.export_reading": "login 403 ok/404 404/ok ok/404 ok",
    "stats.export_roster": "login 403 ok ok ok ok",
    "stats.export_scores_xlsx": "login 403 ok/404 404/ok ok/404 ok",
    "stats.export_sheet_csv": "login 403 ok/404 404/ok ok/404 ok",
    "stats.list_exams": "login 403 ok ok ok ok",
    "stats.show_activity": "login 403 ok ok ok ok",
    "stats.restart_archive_job": "login 403 ok/404 404/ok 404 404",
    "stats.restart_export_job": "login 403 ok/404 404/ok 404 404",
    "stats.show_archive_job": "login 403 ok/404 404/ok 404 404",
    "stats.show_exam": "login 403 ok/404 404/ok ok/404 ok",
    "stats.show_export_job": "login 403 ok/404 404/ok 404 404",
    "stats.show_items": "login 403 ok/404 404/ok ok/404 ok",
    "stats.show_report": "login 403 ok ok ok ok",
    "study.add_material": "login 403 ok/404 404/ok ok/404 ok",
    "study.add_quiz": "login 403 ok/404 404/ok ok/404 ok",
    "study.answer_checkpoint": "login ok/404 404 404 404 404",
    "study.archive_material": "login 403 ok/404 404/ok ok/404 ok",
    "study.checkpoint_results": "login 403 ok/404 404/ok ok/404 ok",
    "study.close_assignment": "login 403 ok/404 404/ok ok/404 ok",
    "study.complete_material": "login ok/404 404 404 404 404",
    "study.create_assignment": "login 403 ok ok ok ok",
    "study.create_material": "login 403 ok ok ok ok",
    "study.decide_reflection": "login 403 422/404 404/422 422/404 422",
    "study.edit_assignment": "login 403 ok/404 404/ok ok/404 ok",
    "study.edit_audience": "login 403 ok/404 404/ok ok/404 ok",
    "study.edit_items": "login 403 ok/404 404/ok ok/404 ok",
    "study.edit_material": "login 403 ok/404 404/ok ok/404 ok",
    "study.list_assignment_reflections": "login 403 ok/404 404/ok ok/404 ok",
    "study.list_managed_assignments": "login 403 ok ok ok ok",
    "study.list_materials": "login 403 ok ok ok ok",
    "study.list_my_reflections": "login ok ok ok ok ok",
    "study.list_readers": "login 403 ok/404 404/ok ok/404 ok",
    "study.list_reflection_assignments": "login 403 ok ok ok ok",
    "study.list_shared_reflections": "login ok ok ok ok ok",
    "study.manage_checkpoints": "login 403 ok/404 404/ok ok/404 ok",
    "study.mark_reflection_excellent": "login 403 400/404 404/400 400/404 400",
    "study.material_file": "login ok/404 ok/404 404/ok ok/404 ok",
    "study.material_image": "login ok/404 ok/404 404/ok ok/404 ok",
    "study.place_checkpoint": "login 403 400/404 404/400 400/404 400",
    "study.publish_assignment": "login 403 ok/404 404/ok ok/404 ok",
    "study.read_material": "login ok/404 404 404 404 404",
    "study.reading_beat": "401 ok/404 404 404 404 404",
    "study.remind_readers": "login 403 ok/404 404/ok ok/404 ok",
    "study.remove_checkpoint": "login 403 ok/404 404/ok ok/404 ok",
    "study.remove_item": "login 403 ok/404 404/ok ok/404 ok",
    "study.review_reflection": "login 403 ok/404 404/ok ok/404 ok",
    "study.save_reflection_draft": "401 409/404 404 404 404 404",
    "study.show_assignment": "login ok/404 404 404 404 404",
    "study.show_managed_assignment": "login 403 ok/404 404/ok ok/404 ok",
    "study.show_material": "login 403 ok/404 404/ok ok/404 ok",
    "study.show_my_record": "login ok ok ok ok ok",
    "study.show_record": "login ok/404 ok/404 404/ok ok/404 ok",
    "study.show_shared_reflection": "login ok/404 ok/404 404/ok ok/404 ok",
    "study.submit_reflection": "login 400/404 404 404 404 404",
    "study.write_reflection": "login ok/404 404 404 404 404",
}


def expected(endpoint: str, viewer: str, side: str) -> str:
    token = ACCESS[endpoint].split()[VIEWERS.index(viewer)]
    if "/" in token:
        token = token.split("/")[SIDES.index(side)]
    return token


# -- The world: one object of each kind on each side ----------------------------------------

def _empty_tables() -> None:
    db.session.remove()
    with db.engine.begin() as connection:
        for table in db.metadata.sorted_tables:
            for key in table.foreign_key_constraints:
                if key.use_alter:
                    connection.execute(table.update().values(
                        {column.name: None for column in key.columns}))
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())


def _person(account, unit, role=Role.TEACHER, name="张老师", manages=()):
    person = Person(account=account, name=name, unit=unit, role=role,
                    political_status=PoliticalStatus.CPC_MEMBER)
    person.set_password(PASSWORD, initial=True)
    person.must_change_password = False
    person.managed_units = list(manages)
    db.session.add(person)
    db.session.flush()
    return person


def jobs_folder(app: Flask):
    from studyhall.exports import jobs

    return jobs._folder(app)


def _write_job(app: Flask, owner_id: int, kind: str) -> str:
    from studyhall.exports import jobs

    job_id = secrets.token_urlsafe(16)
    folder = jobs._folder(app)
    (folder / f"{job_id}.bin").write_bytes(b"x")
    (folder / f"{job_id}.json").write_text(json.dumps({
        "owner": owner_id, "kind": kind, "name": "导出.xlsx", "fallback": "export.xlsx",
        "state": "done", "done": 1, "total": 1, "started": time.time()}), encoding="utf-8")
    return job_id


def build_world(app: Flask) -> dict:
    """Units and viewers, and on each side (A's subtree "in", B's "out") a quiz with an
    attempt, a material, an assignment with a reflection, a session, a plan with an item,
    a category with a question, export and archive jobs. Titles carry the side's letter so
    a leak can be searched for."""
    from studyhall import storage
    from studyhall.bank import operations as bank_ops
    from studyhall.exports import jobs
    from studyhall.quizzes import operations as quiz_ops
    from studyhall.quizzes import taking
    from studyhall.quizzes.models import Quiz
    from studyhall.sessions.links import session_material
    from studyhall.sessions.models import (
        Attendance,
        SessionAttachment,
        SessionKind,
        SessionStatus,
        StudyPlan,
        StudyPlanItem,
        StudySession,
    )
    from studyhall.study import checkpoints
    from studyhall.study.models import (
        Assignment,
        AssignmentItem,
        AssignmentRecipient,
        AssignmentStatus,
        Material,
        MaterialKind,
        MaterialVersion,
        ReadingProgress,
        Reflection,
        ReflectionStatus,
        ReflectionVersion,
    )

    now = utcnow()
    top = org_ops.create_unit(None, "教育局党委", UnitKind.COMMITTEE)
    units = {"in": org_ops.create_unit(top, "甲校党总支", UnitKind.GENERAL_BRANCH),
             "out": org_ops.create_unit(top, "乙校党总支", UnitKind.GENERAL_BRANCH)}
    branches = {"in": org_ops.create_unit(units["in"], "甲校第一支部", UnitKind.BRANCH),
                "out": org_ops.create_unit(units["out"], "乙校第一支部", UnitKind.BRANCH)}
    db.session.flush()
    viewers = {
        "teacher": _person("t_a", branches["in"], name="甲老师"),
        "secretary_a": _person("sec_a", units["in"], Role.SECRETARY, "甲书记", [units["in"]]),
        "secretary_b": _person("sec_b", units["out"], Role.SECRETARY, "乙书记",
                               [units["out"]]),
        "unit_admin": _person("ua", units["in"], Role.ADMIN, "甲校管理员", [units["in"]]),
        "admin": _person("admin", top, Role.ADMIN, "局管理员"),
    }
    members = {"in": viewers["teacher"],
               "out": _person("t_b", branches["out"], name="乙校赵老师")}
    world = {"viewers": {k: v.id for k, v in viewers.items()},
             "names": {k: v.name for k, v in viewers.items()}, "in": {}, "out": {}}
    for side, letter in (("in", "甲"), ("out", "乙")):
        unit, branch, member = units[side], branches[side], members[side]
        owner = viewers["secretary_a" if side == "in" else "secretary_b"]
        category = bank_ops.create_category(None, f"{letter}方题库分类")
        question = bank_ops.save_question(None, qb.Question(
            type="single", stem=f"{letter}方题干：预备期几年？", options=("一年", "两年"),
            answer="A", points=100), category)
        quiz = Quiz(title=f"{letter}方测验", owner_unit_id=unit.id,
                    opens_at=now - timedelta(minutes=5), closes_at=now + timedelta(hours=1),
                    paper={"kind": "fixed", "question_ids": [question.id]},
                    audience={"unit_ids": [branch.id]}, shuffle_options=False)
        db.session.add(quiz)
        db.session.flush()
        quiz_ops.publish_quiz(viewers["admin"], quiz, now=now)
        attempt = taking.start_attempt(quiz, taking.recipient_of(quiz, member),
                                       now=now - timedelta(minutes=2))
        taking.finish_attempt(attempt, now - timedelta(minutes=1))
        attempt.score = Decimal("100")

        material = Material(kind=MaterialKind.TEXT, owner_unit_id=unit.id)
        db.session.add(material)
        db.session.flush()
        version = MaterialVersion(material_id=material.id, number=1,
                                  title=f"{letter}方学习材料", body_html="<p>正文</p>",
                                  min_reading_seconds=0)
        db.session.add(version)
        db.session.flush()
        material.current_version_id = version.id
        stored = storage.save_file(png(), f"{letter}方照片.png", owner)
        version.file_id = stored.id
        checkpoint = checkpoints.place_checkpoint(version, question.id, 0)
        assignment = Assignment(
            title=f"{letter}方学习任务", owner_unit_id=unit.id, created_by_id=owner.id,
            starts_at=now - timedelta(days=1), due_at=now + timedelta(days=7),
            requires_reflection=True, reflection_min_chars=1,
            status=AssignmentStatus.PUBLISHED, published_at=now,
            audience={"unit_ids": [branch.id]})
        db.session.add(assignment)
        db.session.flush()
        db.session.add(AssignmentItem(assignment_id=assignment.id, position=1,
                                      material_id=material.id))
        readers = query_audience(assignment.audience, unit).subquery()
        db.session.execute(sa.insert(AssignmentRecipient).from_select(
            ["assignment_id", "person_id", "unit_id", "political_status"],
            sa.select(sa.literal(assignment.id), readers.c.id, readers.c.unit_id,
                      readers.c.political_status)))
        # The member has opened the material (so a checkpoint can be answered).
        db.session.add(ReadingProgress(assignment_id=assignment.id, person_id=member.id,
                                       material_id=material.id, version_id=version.id,
                                       opened_ms=0, last_beat_ms=0))
        reflection = Reflection(person_id=member.id, assignment_id=assignment.id,
                                status=ReflectionStatus.SUBMITTED,
                                body=f"{letter}方心得正文", char_count=6,
                                submitted_at=now, is_excellent=True, shared_at=now)
        db.session.add(reflection)
        db.session.flush()
        db.session.add(ReflectionVersion(reflection_id=reflection.id, number=1,
                                         body=reflection.body, char_count=6,
                                         submitted_at=now))

        session = StudySession(kind=SessionKind.THEME_DAY, status=SessionStatus.PUBLISHED,
                               owner_unit_id=unit.id, topic=f"{letter}方主题党日",
                               starts_at=now - timedelta(minutes=10),
                               ends_at=now + timedelta(hours=1),
                               checkin_secret=secrets.token_hex(16), published_at=now,
                               audience={"unit_ids": [branch.id]})
        db.session.add(session)
        db.session.flush()
        db.session.add(Attendance(session_id=session.id, person_id=member.id,
                                  unit_id=member.unit_id,
                                  political_status=member.political_status))
        db.session.execute(sa.insert(session_material).values(session_id=session.id,
                                                              material_id=material.id))
        attachment = SessionAttachment(session_id=session.id, kind="attachment",
                                       file_id=stored.id, caption=f"{letter}方附件")
        db.session.add(attachment)
        plan = StudyPlan(unit_id=unit.id, year=now.year, title=f"{letter}方学习计划")
        db.session.add(plan)
        db.session.flush()
        item = StudyPlanItem(plan_id=plan.id, kind=SessionKind.THEME_DAY, month=1,
                             topic=f"{letter}方计划条目")
        db.session.add(item)
        db.session.flush()
        world[side] = {
            "unit_id": unit.id, "person_id": member.id, "quiz_id": quiz.id,
            "attempt_id": attempt.id, "question_id": question.id,
            "category_id": category.id, "material_id": material.id,
            "version_id": version.id, "assignment_id": assignment.id,
            "reflection_id": reflection.id, "session_id": session.id, "plan_id": plan.id,
            "item_id": item.id, "file_id": stored.id, "attachment_id": attachment.id,
            "checkpoint_id": checkpoint.id,
            "job_id": _write_job(app, owner.id, jobs.SHEET),
            "archive_job_id": _write_job(app, owner.id, jobs.ARCHIVE),
            "names": [f"{letter}方{what}" for what in (
                "题库分类", "题干", "测验", "学习材料", "学习任务", "心得正文", "主题党日",
                "学习计划", "计划条目", "附件")] + [member.name, unit.name, branch.name],
        }
    db.session.commit()
    return world


#: Arguments that do not name an object: the first value the route accepts.
FIXED_ARGUMENTS = {"action": "deactivate", "suffix": "csv", "sheet": "scores", "size": "page",
                   "code": "en", "token": "not-a-token"}
#: JSON endpoints check the body's shape before the object: a minimal well-formed body,
#: so the answer is the gate's and not a 400 for an empty body.
JSON_BODIES = {
    "quizzes.save_answer": {"position": 1, "response": "A"},
    "quizzes.record_event": {"kind": "leave"},
    "study.reading_beat": {"token": "not-a-token", "active": True},
    "study.save_reflection_draft": {"body": "心得", "based_on": 0},
    "sessions.save_session_reflection_draft": {"body": "心得", "based_on": 0},
}
#: (token: an import's preview, per uploader, is tested in
#: test_an_import_preview_is_its_uploaders_only; the check-in QR token is the session's.)
#: Pages whose URL carries a valid secret that is itself shown beside the title: the
#: check-in QR code is on the session's screen under its topic, so a scanner who is not
#: on the list is told "not on the list of <topic>" (403), which tells them nothing new.
SHOWN_TO_TOKEN_HOLDERS = {"sessions.scan_checkin"}
#: An id the world does not build: it names nothing, so every viewer gets 404 (or the
#: role's 403), never a 500.
MISSING_ID = 987654


def url_for_case(rule, world: dict, side: str) -> str:
    values = {}
    for name in rule.arguments:
        if name == "token" and rule.endpoint == "sessions.scan_checkin":
            from studyhall.sessions import checkin
            from studyhall.sessions.models import StudySession

            session = db.session.get(StudySession, world[side]["session_id"])
            values[name] = checkin.token_for(session, checkin.step_of(utcnow()))
        elif name in FIXED_ARGUMENTS:
            values[name] = FIXED_ARGUMENTS[name]
        elif name == "signature":
            from studyhall.study.materials import image_signature

            values[name] = image_signature(world[side]["material_id"], world[side]["file_id"])
        elif name == "job_id":
            values[name] = world[side]["archive_job_id" if "archive" in rule.endpoint
                                       else "job_id"]
        elif name in world[side]:
            values[name] = world[side][name]
        else:
            values[name] = MISSING_ID
    return rule.build(values, append_unknown=False)[1]


def _rules():
    from config import TestingConfig
    from studyhall import create_app

    # Only the URL map is wanted: an in-memory database, whatever TEST_DATABASE_URL says.
    app = create_app(type("Config", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": "sqlite://"}))
    return sorted((rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"),
                  key=lambda rule: (rule.rule, rule.endpoint))


RULES = _rules()


def _method(rule) -> str:
    return "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]


@contextmanager
def rolled_back():
    """Run a write inside a transaction that is rolled back afterwards: the request's
    commit only releases a SAVEPOINT (the session joins the connection's transaction),
    so a write that is let through leaves the world as it was for the next case."""
    engines = db.engines
    engine = engines[None]
    db.session.remove()
    connection = engine.connect()
    outer = connection.begin()
    engines[None] = connection
    try:
        yield
    finally:
        db.session.remove()
        engines[None] = engine
        outer.rollback()
        connection.close()


def drop_flashes(client) -> None:
    """A write that redirects leaves its message for the next page: drop it, so the next
    case's page shows only what its own request put there."""
    if client.get_cookie("session") is None:
        return
    with client.session_transaction() as session:
        session.pop("_flashes", None)


class World:
    """The database's objects and one logged-in client per viewer, built on first use."""

    def __init__(self, app: Flask):
        self.app = app
        self.data: dict = {}
        self.clients: dict = {}

    def fresh(self) -> World:
        if not self.data:
            _empty_tables()
            self.data = build_world(self.app)
            for viewer in VIEWERS:
                self.relogin(viewer)
        return self

    def relogin(self, viewer: str) -> None:
        client = self.app.test_client()
        client.set_cookie("lang", "en")
        if viewer != "anonymous":
            account = db.session.get(Person, self.data["viewers"][viewer]).account
            response = client.post("/login", data={"account": account, "password": PASSWORD})
            assert response.status_code == 302, viewer
        self.clients[viewer] = client


@pytest.fixture(scope="module")
def world(database_app, tmp_path_factory):
    database_app.config["FILE_STORAGE_DIR"] = str(tmp_path_factory.mktemp("files"))
    with database_app.app_context():
        db.session.remove()
        factory_options = db.session.session_factory.kw
        previous = factory_options.get("join_transaction_mode")
        db.session.configure(join_transaction_mode="create_savepoint")
        holder = World(database_app)
        yield holder
        db.session.remove()
        if previous is None:
            factory_options.pop("join_transaction_mode", None)
        else:
            db.session.configure(join_transaction_mode=previous)
        _empty_tables()
        for side in SIDES if holder.data else ():
            for key in ("job_id", "archive_job_id"):
                for suffix in (".bin", ".json"):
                    (jobs_folder(database_app) / f"{holder.data[side][key]}{suffix}").unlink(
                        missing_ok=True)
    database_app.config.pop("FILE_STORAGE_DIR", None)


def classify(response) -> str:
    status = response.status_code
    if status == 302 and response.location.startswith("/login"):
        return "login"
    if status < 400:
        return "ok"
    return str(status)


def test_every_endpoint_has_an_entry():
    missing = sorted({rule.endpoint for rule in RULES} - set(ACCESS))
    assert not missing, ("endpoints without an expected answer: "
                         + ", ".join(missing)
                         + " (add it to ACCESS in test_access_matrix.py)")
    stale = sorted(set(ACCESS) - {rule.endpoint for rule in RULES})
    assert not stale, f"ACCESS names endpoints that no longer exist: {stale}"


def test_a_write_let_through_leaves_the_world_as_it_was(world):
    """The matrix's premise: an allowed write runs in a transaction that is rolled back,
    so the cases after it see the same objects."""
    from studyhall.quizzes.models import Quiz, QuizStatus

    world.fresh()
    person_id, quiz_id = world.data["in"]["person_id"], world.data["in"]["quiz_id"]
    client = world.clients["admin"]
    with rolled_back():
        assert client.post(f"/manage/people/{person_id}/deactivate").status_code == 302
        assert client.post(f"/manage/quizzes/{quiz_id}/close").status_code == 302
        drop_flashes(client)
        db.session.expire_all()
        assert not db.session.get(Person, person_id).is_active
        assert db.session.get(Quiz, quiz_id).status is QuizStatus.CLOSED
    db.session.expire_all()
    assert db.session.get(Person, person_id).is_active
    assert db.session.get(Quiz, quiz_id).status is QuizStatus.PUBLISHED


@pytest.mark.parametrize("purpose, endpoint, viewers", [
    ("roster", "org.preview_roster", ["secretary_a", "secretary_b", "unit_admin", "admin"]),
    ("questions", "bank.preview_import", ["unit_admin", "admin"]),
])
def test_an_import_preview_is_its_uploaders_only(world, purpose, endpoint, viewers):
    """A preview's token names one person's pending upload: anyone else who may import
    is sent back to the upload page ("expired"), without the file's name."""
    from flask import url_for

    from studyhall.uploads import keep_upload

    world.fresh()
    for owner in viewers:
        with rolled_back():
            upload = keep_upload(db.session.get(Person, world.data["viewers"][owner]),
                                 purpose, "甲方名单.xlsx", b"not a workbook")
            db.session.flush()
            with world.app.test_request_context():
                url = url_for(endpoint, token=upload.token)
            for viewer in viewers:
                response = world.clients[viewer].get(url)
                drop_flashes(world.clients[viewer])
                body = response.get_data(as_text=True)
                if viewer == owner:
                    assert response.status_code == 200 and "甲方名单" in body, (owner, viewer)
                else:
                    assert response.status_code == 302, (owner, viewer)
                    assert "/preview/" not in response.location and "甲方名单" not in body


#: Attachments that are not built from the database and hold nothing personal: blank
#: import templates, and study materials (storage.file_response: revalidated each time,
#: by their ETag). A session's attachments are sign-in sheets and photos of people:
#: kept by no cache, as the built files.
NOT_BUILT_FILES = {"bank.download_template", "org.download_roster_template",
                   "study.material_file", "study.material_image"}


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("rule", RULES, ids=lambda rule: f"{rule.endpoint}:{rule.rule}")
def test_access(world, rule, viewer, side):
    if rule.endpoint not in ACCESS and not os.environ.get("ACCESS_DISCOVER"):
        pytest.fail(f"{rule.endpoint} has no expected answer "
                    "(add it to ACCESS in test_access_matrix.py)")
    world.fresh()
    url = url_for_case(rule, world.data, side)
    method = _method(rule)
    client = world.clients[viewer]
    body = {} if method == "GET" else (
        {"json": JSON_BODIES[rule.endpoint]} if rule.endpoint in JSON_BODIES else {"data": {}})
    with rolled_back():  # a GET may write too (a QR scan checks in)
        response = client.open(url, method=method, **body)
    drop_flashes(client)
    answer = classify(response)
    if rule.endpoint == "auth.logout":
        world.relogin(viewer)
    body = response.get_data().decode("utf-8", "replace")
    response.close()
    assert response.status_code < 500, f"{method} {url} as {viewer}: {response.status_code}"
    if os.environ.get("ACCESS_DISCOVER"):
        with open(os.environ["ACCESS_DISCOVER"], "a", encoding="utf-8") as out:
            out.write(f"{rule.endpoint}\t{viewer}\t{side}\t{answer}\t{method} {url}\n")
        return
    outsider = {"in": {"secretary_b"}, "out": {"teacher", "secretary_a", "unit_admin"}}[side]
    if (answer == "404" or answer != "ok" and viewer in outsider) \
            and rule.endpoint not in SHOWN_TO_TOKEN_HOLDERS:
        # The viewer's own name is in the page's header (the teacher is A's member).
        own = world.data["names"].get(viewer)
        leaked = [name for name in world.data[side]["names"] if name in body and name != own]
        assert not leaked, f"{method} {url} as {viewer}: {response.status_code} shows {leaked}"
    assert answer == expected(rule.endpoint, viewer, side), (
        f"{method} {url} as {viewer} ({side} A's subtree): {response.status_code}")
    if response.status_code == 200 and rule.endpoint not in NOT_BUILT_FILES and \
            response.headers.get("Content-Disposition", "").startswith("attachment"):
        # A file the app builds holds personal data or exam questions: no cache keeps it
        # (a school office's computer is shared).
        assert response.headers.get("Cache-Control") == "private, no-store", (
            f"{method} {url}: Cache-Control {response.headers.get('Cache-Control')!r}")
