"""Exports while an exam runs: every command's audit entry is written in a transaction of
its own after its file is complete (on SQLite a read transaction cannot become a writer
once anyone else has committed: "database is locked"), no file is left when the entry
cannot be written, and a background export's sheets read one snapshot (on PostgreSQL each
statement would otherwise see the latest commits)."""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import pytest
import sqlalchemy as sa

from studyhall.audit import AuditEntry
from studyhall.exports import jobs
from studyhall.extensions import db
from studyhall.org.models import Person
from studyhall.quizzes.models import Attempt
from tests.app.stats_fixtures_f1 import *  # noqa: F401,F403


def others_save(person_id: int) -> None:
    """A write committed by another connection (a running exam's save)."""
    with db.engine.begin() as connection:
        connection.execute(sa.update(Person).where(Person.id == person_id)
                           .values(name="李老师"))


def audit_count(action: str) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == action))


def _roster(org, out):
    return ["export-roster", "--out", out], "studyhall.exports.people.write_roster_workbook", \
        "export.roster"


def _archive(org, out):
    return (["archive", "--unit", org.top.name, "--from", "2026-01-01", "--to", "2026-12-31",
             "--out", out], "studyhall.exports.archive.Archive.write", "archive.export")


def _scores(org, out, quiz_id):
    return (["export-scores", "--quiz", str(quiz_id), "--out", out],
            "studyhall.exports.scores.write_score_workbook", "export.scores")


def command(which, org, small_exam, out):
    if which == "scores":
        return _scores(org, out, small_exam.quiz.id)
    return {"roster": _roster, "archive": _archive}[which](org, out)


@pytest.mark.parametrize("which", ["roster", "archive", "scores"])
def test_the_audit_entry_is_written_after_others_committed(app, org, small_exam, tmp_path,
                                                           monkeypatch, which):
    out = tmp_path / f"{which}.out.xlsx"
    args, writer, action = command(which, org, small_exam, str(out))
    module, _, name = writer.rpartition(".")
    owner = __import__(module.rsplit(".", 1)[0] if name == "write" else module,
                       fromlist=["x"])
    if name == "write":  # Archive.write
        owner = owner.Archive
    write = getattr(owner, name)

    def written_while_others_save(*a, **kw):
        write(*a, **kw)
        others_save(org.teacher.id)

    monkeypatch.setattr(owner, name, written_while_others_save)
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    assert out.exists() and not (tmp_path / f"{which}.out.xlsx.partial").exists()
    assert audit_count(action) == 1


@pytest.mark.parametrize("which", ["roster", "archive", "scores"])
def test_no_file_is_left_when_the_audit_cannot_be_written(app, org, small_exam, tmp_path,
                                                          monkeypatch, which):
    from studyhall import audit

    out = tmp_path / f"{which}.xlsx"
    args, _writer, action = command(which, org, small_exam, str(out))

    def refused(*_a, **_kw):
        raise sa.exc.OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(audit, "record_apart", refused)
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code != 0
    assert list(tmp_path.iterdir()) == []  # neither the file nor its scratch copy
    assert audit_count(action) == 0


@pytest.mark.parametrize("inline", [2, 5000], ids=["background", "in-the-request"])
def test_a_score_sheet_reads_one_snapshot(client, org, login, small_exam, app, monkeypatch,
                                          inline):
    """An exam commits between the people's sheet and the unit summary: the summary still
    agrees with the rows (the teacher's 100 is the highest score on both), whether the
    workbook is built in a background job or in the request."""
    from studyhall.exports import scores

    teacher_attempt = db.session.scalar(sa.select(Attempt.id).where(
        Attempt.quiz_id == small_exam.quiz.id, Attempt.person_id == org.teacher.id))
    people_rows = scores.iter_score_values

    def rows_then_a_commit(export):
        yield from people_rows(export)
        with db.engine.begin() as connection:  # a regrade committed meanwhile
            connection.execute(sa.update(Attempt).where(Attempt.id == teacher_attempt)
                               .values(score=Decimal("10")))

    monkeypatch.setattr(scores, "iter_score_values", rows_then_a_commit)
    app.config["EXPORT_INLINE_ROWS"] = inline
    try:
        login(org.admin)
        reply = client.get(f"/manage/stats/exams/{small_exam.quiz.id}/scores.xlsx")
        if inline < 8:  # the fixture's 8 people: a background job
            assert reply.status_code == 302
            job_id = reply.location.rstrip("/").rsplit("/", 1)[-1]
            jobs.wait(job_id)
            assert client.get(f"{reply.location}/status").get_json()["state"] == "done"
            reply.close()
            reply = client.get(f"{reply.location}/download")
        assert reply.status_code == 200
        data = reply.get_data()
        reply.close()
    finally:
        app.config.pop("EXPORT_INLINE_ROWS")
    book = openpyxl.load_workbook(io.BytesIO(data))
    people = [list(r) for r in book["成绩单"].iter_rows(values_only=True)
              if isinstance(r[0], int)]
    scored = [Decimal(str(r[6])) for r in people if r[6] is not None]
    units = [list(r) for r in book["单位汇总"].iter_rows(values_only=True)]
    header = next(r for r in units if r[0] == "单位")
    top = units[units.index(header) + 1]
    highest = Decimal(str(top[header.index("最高分")]))
    took = top[header.index("实考")]
    assert max(scored) == Decimal(100)
    assert (highest, took) == (max(scored), len(scored))  # the summary saw the same data
    db.session.rollback()
    assert db.session.scalar(sa.select(Attempt.score).where(Attempt.id == teacher_attempt)) \
        == Decimal("10")  # the regrade did commit, after the snapshot


def _commit_elsewhere_before_the_entry(session, flush_context, instances):
    """A running exam commits just before the export's audit entry reaches the
    database: on SQLite, an entry written in the request's read transaction would then
    fail ("database is locked": a reader cannot become a writer on a stale snapshot)."""
    if any(isinstance(obj, AuditEntry) for obj in session.new):
        others_save(session.info["others_person_id"])


@pytest.mark.parametrize("url", [
    "/manage/stats/exams/{quiz}/scores.csv",
    "/manage/stats/roster.csv",
    "/manage/stats/roster.xlsx",
    "/manage/audit/export.csv",
    "/manage/audit/export.xlsx",
])
def test_a_downloads_audit_entry_is_written_after_others_committed(client, org, login,
                                                                   small_exam, url):
    """The downloads built in the request write their entry in a transaction of their own
    (audit.record_apart), so a save committed meanwhile by a running exam does not fail
    them. Each answers its file and leaves exactly one entry."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    login(org.admin)
    before = audit_count_all()
    db.session.info["others_person_id"] = org.teacher.id
    event.listen(Session, "before_flush", _commit_elsewhere_before_the_entry)
    try:
        reply = client.get(url.format(quiz=small_exam.quiz.id))
        body = reply.get_data()
        reply.close()
    finally:
        event.remove(Session, "before_flush", _commit_elsewhere_before_the_entry)
        db.session.info.pop("others_person_id", None)
    assert reply.status_code == 200, body[:300]
    assert len(body) > 0
    assert audit_count_all() == before + 1
    db.session.rollback()
    assert db.session.get(Person, org.teacher.id).name == "李老师"  # the other save held


def audit_count_all() -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
