"""A background export whose host died (issue 12, the faults' left-overs): before, its
status said "running" for ever. Now a running job beats, a job whose beat is too old reads
as interrupted ("导出中断，请重新导出") with a button that starts it again, and one job
never has two live runs."""

from __future__ import annotations

import io
import json
import os
import threading
import time
import zipfile

import openpyxl
import pytest
import sqlalchemy as sa

from studyhall.audit import AuditEntry
from studyhall.errors import InsufficientStorage
from studyhall.exports import jobs
from studyhall.extensions import db
from tests.app.stats_fixtures_f1 import *  # noqa: F401,F403


@pytest.fixture()
def small_inline(app):
    app.config["EXPORT_INLINE_ROWS"] = 2
    yield
    app.config.pop("EXPORT_INLINE_ROWS")


def job_id_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def status_file(app, job_id: str):
    return jobs._status_path(app, job_id)


def as_a_dead_host_left_it(app, job_id: str) -> None:
    """The job's status as its host left it when killed mid-build: running, its last beat
    two minutes old, no file."""
    path = status_file(app, job_id)
    status = json.loads(path.read_text(encoding="utf-8"))
    status.update(state="running", done=3, beat=time.time() - 120)
    status.pop("finished", None)
    path.write_text(json.dumps(status), encoding="utf-8")
    (path.parent / f"{job_id}.bin").unlink()


def test_a_job_whose_host_died_reads_as_interrupted_and_starts_again(
        client, app, org, login, small_exam, small_inline):
    login(org.secretary)
    url = client.get("/manage/stats/roster.xlsx").location
    job_id = job_id_of(url)
    jobs.wait(job_id)
    as_a_dead_host_left_it(app, job_id)

    assert client.get(f"{url}/status").get_json()["state"] == "interrupted"
    page = client.get(url).get_data(as_text=True)
    assert "Export interrupted. Please export again." in page
    assert f'action="{url}/restart"' in page and "data-export-running" not in page
    assert client.get(f"{url}/download").status_code == 404

    reply = client.post(f"{url}/restart")
    assert reply.status_code == 302 and reply.location.endswith(url)
    jobs.wait(job_id)
    status = json.loads(status_file(app, job_id).read_text(encoding="utf-8"))
    assert (status["state"], status["run"], status["done"]) == ("done", 2, status["total"])
    download = client.get(f"{url}/download")
    rows = list(openpyxl.load_workbook(io.BytesIO(download.get_data())).active
                .iter_rows(values_only=True))
    download.close()
    assert rows[0][1] == "工号" and {r[2] for r in rows[1:]} >= {"李老师", "王书记"}
    assert "赵老师" not in {r[2] for r in rows[1:]}  # still the secretary's subtree only
    # Done: nothing to start again.
    assert client.post(f"{url}/restart").status_code == 302
    assert json.loads(status_file(app, job_id).read_text(encoding="utf-8"))["run"] == 2


def test_the_chinese_page_says_it_in_chinese(client, app, org, login, small_exam,
                                             small_inline):
    login(org.secretary)
    url = client.get("/manage/stats/roster.xlsx").location
    jobs.wait(job_id_of(url))
    as_a_dead_host_left_it(app, job_id_of(url))
    client.set_cookie("lang", "zh_CN")
    page = client.get(url).get_data(as_text=True)
    assert "导出中断，请重新导出" in page and "重新导出</button>" in page


def test_a_job_that_beats_is_running_and_cannot_be_started_twice(
        client, app, org, login, small_exam, small_inline):
    login(org.secretary)
    url = client.get("/manage/stats/roster.xlsx").location
    job_id = job_id_of(url)
    jobs.wait(job_id)
    as_a_dead_host_left_it(app, job_id)
    path = status_file(app, job_id)
    status = json.loads(path.read_text(encoding="utf-8"))
    status["beat"] = time.time()  # its host is alive and building
    path.write_text(json.dumps(status), encoding="utf-8")
    assert client.get(f"{url}/status").get_json()["state"] == "running"
    assert "data-export-running" in client.get(url).get_data(as_text=True)
    client.post(f"{url}/restart")
    assert json.loads(path.read_text(encoding="utf-8"))["run"] == 1
    assert not (path.parent / f"{job_id}.run2").exists()


def test_another_persons_job_cannot_be_started_again(client, app, org, login, small_exam,
                                                     small_inline):
    login(org.secretary)
    url = client.get("/manage/stats/roster.xlsx").location
    jobs.wait(job_id_of(url))
    as_a_dead_host_left_it(app, job_id_of(url))
    client.post("/logout")
    login(org.admin)
    assert client.post(f"{url}/restart").status_code == 404
    assert json.loads(status_file(app, job_id_of(url)).read_text(encoding="utf-8"))["run"] == 1


def test_an_interrupted_archive_starts_again_and_its_download_is_still_audited(
        client, app, org, login):
    login(org.admin)
    reply = client.post("/manage/stats/archive", data={
        "unit_id": org.gen_a.id, "start": "2026-01-01", "end": "2026-06-30"})
    url = reply.location
    job_id = job_id_of(url)
    jobs.wait(job_id)
    as_a_dead_host_left_it(app, job_id)
    assert client.get(f"{url}/status").get_json()["state"] == "interrupted"
    assert "Export interrupted." in client.get(url).get_data(as_text=True)
    assert client.post(f"{url}/restart").location.endswith(url)
    jobs.wait(job_id)
    assert client.get(f"{url}/status").get_json()["state"] == "done"
    download = client.get(f"{url}/download")
    assert zipfile.ZipFile(io.BytesIO(download.get_data())).namelist()
    download.close()
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(
        AuditEntry.action == "archive.download")) == 1


# --- the runs of one job, at the level of jobs.py --------------------------------------------

GATE = threading.Event()
STARTED = threading.Semaphore(0)


@jobs.recipe("test.gated")
def _gated(rows: int):
    """A build that waits at its start (a long query, say) until the test opens GATE."""
    def build(_viewer, path, progress):
        STARTED.release()
        GATE.wait(30)
        with open(path, "wb") as handle:
            handle.write(b"x" * rows)
        progress(rows)
    return build


@pytest.fixture()
def gate():
    GATE.clear()
    yield GATE
    GATE.set()


def test_a_run_taken_for_dead_stops_when_it_wakes_and_the_new_run_alone_finishes(
        app, org, gate, monkeypatch, caplog):
    """A host frozen (not dead) past the limit: its job is started again elsewhere; when
    the frozen run wakes it finds the next run claimed and stops without writing its
    status or its file. Two clicks on 'Export again' claim the run once."""
    monkeypatch.setitem(app.config, "EXPORT_JOB_HEARTBEAT_SECONDS", 3600)
    job_id = jobs.start(org.admin.id, "名单.xlsx", "list.xlsx", 5, "test.gated", {"rows": 5})
    assert STARTED.acquire(timeout=30)
    path = status_file(app, job_id)
    status = json.loads(path.read_text(encoding="utf-8"))
    status["beat"] = time.time() - 120
    path.write_text(json.dumps(status), encoding="utf-8")
    first = jobs._running[job_id]

    with app.test_request_context():
        assert jobs.restart(job_id, org.admin.id) is True
    assert STARTED.acquire(timeout=30)  # run 2 is building
    second = jobs._running[job_id]
    with app.test_request_context():
        assert jobs.restart(job_id, org.admin.id) is False  # running: not again
    gate.set()
    first.join(30)
    second.join(30)
    status = json.loads(path.read_text(encoding="utf-8"))
    assert (status["state"], status["run"], status["done"]) == ("done", 2, 5)
    assert "run 1 was started again elsewhere" in caplog.text
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith(job_id)) == \
        [f"{job_id}.bin", f"{job_id}.json", f"{job_id}.run2"]


def a_gated_job_its_host_left(app, org, gate, monkeypatch):
    """A gated job built, then its status put back as a dead host leaves it: running,
    its last beat two minutes old. Its id and status file."""
    monkeypatch.setitem(app.config, "EXPORT_JOB_HEARTBEAT_SECONDS", 3600)
    gate.set()
    job_id = jobs.start(org.admin.id, "名单.xlsx", "list.xlsx", 5, "test.gated", {"rows": 5})
    jobs.wait(job_id)
    STARTED.acquire(timeout=30)
    path = status_file(app, job_id)
    status = json.loads(path.read_text(encoding="utf-8"))
    status.update(state="running", beat=time.time() - 120)
    path.write_text(json.dumps(status), encoding="utf-8")
    return job_id, path


def test_two_restarts_at_once_start_one_run(app, org, gate, monkeypatch):
    job_id, path = a_gated_job_its_host_left(app, org, gate, monkeypatch)
    # The other click (or host) claimed run 2 a moment ago and is writing its status.
    (path.parent / f"{job_id}.run2").touch()
    with app.test_request_context():
        assert jobs.restart(job_id, org.admin.id) is False  # the first click's restart
    assert job_id not in jobs._running  # nothing started here
    assert json.loads(path.read_text(encoding="utf-8"))["run"] == 1


def test_a_long_step_without_progress_still_beats(app, org, gate, monkeypatch):
    """The heartbeat is a timer, not only the progress writes: a build inside one long
    query keeps its job 'running'."""
    monkeypatch.setitem(app.config, "EXPORT_JOB_HEARTBEAT_SECONDS", 0.05)
    job_id = jobs.start(org.admin.id, "名单.xlsx", "list.xlsx", 5, "test.gated", {"rows": 5})
    assert STARTED.acquire(timeout=30)
    path = status_file(app, job_id)
    first = json.loads(path.read_text(encoding="utf-8"))["beat"]
    beats = []
    for _ in range(600):  # waits for the timer's write, at most 30 s
        beats.append(json.loads(path.read_text(encoding="utf-8"))["beat"])
        if beats[-1] != first:
            break
        time.sleep(0.05)
    gate.set()
    jobs.wait(job_id)
    assert beats[-1] > first
    assert json.loads(path.read_text(encoding="utf-8"))["state"] == "done"


def test_a_restart_that_cannot_write_its_status_can_be_tried_again(app, org, gate,
                                                                  monkeypatch):
    """The disk is full the moment run 2 is claimed: the click answers 507 and the job
    stays interrupted. Before, the claim stayed behind, so every later click found run 2
    'already started' and nothing ever ran: the job was stuck for its day."""
    job_id, path = a_gated_job_its_host_left(app, org, gate, monkeypatch)

    real_write = jobs._write_status

    def disk_full(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(jobs, "_write_status", disk_full)
    with app.test_request_context(), pytest.raises(InsufficientStorage):
        jobs.restart(job_id, org.admin.id)
    monkeypatch.setattr(jobs, "_write_status", real_write)
    assert not (path.parent / f"{job_id}.run2").exists()

    with app.test_request_context():  # space again: the next click starts run 2
        assert jobs.restart(job_id, org.admin.id) is True
    jobs.wait(job_id)
    assert STARTED.acquire(timeout=30)
    status = json.loads(path.read_text(encoding="utf-8"))
    assert (status["state"], status["run"]) == ("done", 2)


def test_a_sheet_started_again_leaves_an_audit_entry(client, app, org, login, small_exam,
                                                      small_inline):
    """A restart reads the personal data again, hours after the audited export perhaps,
    and a sheet's download is not audited: before, nothing recorded that it happened."""
    login(org.secretary)
    url = client.get("/manage/stats/roster.xlsx").location
    job_id = job_id_of(url)
    jobs.wait(job_id)
    as_a_dead_host_left_it(app, job_id)
    assert client.post(f"{url}/restart").status_code == 302
    jobs.wait(job_id)
    entries = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "export.restart")).all()
    assert [(e.actor_id, e.details["recipe"], e.details["file"]) for e in entries] == \
        [(org.secretary.id, "stats.roster", json.loads(
            status_file(app, job_id).read_text(encoding="utf-8"))["name"])]
    client.post(f"{url}/restart")  # done: nothing started, nothing recorded
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(
        AuditEntry.action == "export.restart")) == 1


def test_two_clicks_that_race_are_one_restart_and_one_audit_entry(
        client, app, org, login, small_exam, small_inline):
    """Both clicks read the job as interrupted; the first claims run 2 (its claim is
    fresh) before the second gets there. The second starts nothing and, before, still
    recorded a restart: two entries for one."""
    login(org.secretary)
    url = client.get("/manage/stats/roster.xlsx").location
    job_id = job_id_of(url)
    jobs.wait(job_id)
    as_a_dead_host_left_it(app, job_id)
    (status_file(app, job_id).parent / f"{job_id}.run2").touch()  # the first click's
    assert client.post(f"{url}/restart").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(
        AuditEntry.action == "export.restart")) == 0
    assert json.loads(status_file(app, job_id).read_text(encoding="utf-8"))["run"] == 1


def test_a_claim_whose_host_died_before_writing_the_status_does_not_block_the_job(
        app, org, gate, monkeypatch):
    """Run 2 was claimed two minutes ago and its status never written (the host died in
    between): before, every click found run 2 'started by another' and nothing ran."""
    job_id, path = a_gated_job_its_host_left(app, org, gate, monkeypatch)
    claim = path.parent / f"{job_id}.run2"
    claim.touch()
    old = time.time() - 120
    os.utime(claim, (old, old))
    with app.test_request_context():
        assert jobs.restart(job_id, org.admin.id) is True
    jobs.wait(job_id)
    assert STARTED.acquire(timeout=30)
    status = json.loads(path.read_text(encoding="utf-8"))
    assert (status["state"], status["run"]) == ("done", 3)
