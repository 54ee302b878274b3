"""Big exports are built in a background thread (never past a worker's timeout): the
request answers at once with a progress page, the status says how far it is, and the
file, when done, is the same workbook; only the person who started it can see it."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest

from studyhall.exports import jobs
from tests.app.stats_fixtures_f1 import *  # noqa: F401,F403


def wait_for(client, job_url: str) -> dict:
    """Wait for the job's thread to end (no clock), then read its status as the page
    does."""
    jobs.wait(job_url.rstrip("/").rsplit("/", 1)[-1])
    return client.get(f"{job_url}/status").get_json()


@pytest.fixture()
def small_inline(app):
    app.config["EXPORT_INLINE_ROWS"] = 2
    yield
    app.config.pop("EXPORT_INLINE_ROWS")


def test_a_big_score_sheet_is_built_in_the_background(client, org, login, small_exam,
                                                      small_inline):
    login(org.admin)
    reply = client.get(f"/manage/stats/exams/{small_exam.quiz.id}/scores.xlsx")
    assert reply.status_code == 302 and "/manage/exports/" in reply.location
    job_url = reply.location
    page = client.get(job_url).get_data(as_text=True)
    assert "data-status-url" in page and "党纪党规知识测试-成绩单" in page
    status = wait_for(client, job_url)
    assert status == {"state": "done", "done": 8, "total": 8}
    download = client.get(f"{job_url}/download")
    data = download.get_data()
    download.close()
    assert "filename*=UTF-8''" in download.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["成绩单", "单位汇总", "试题分析"]
    names = [row[2] for row in book["成绩单"].iter_rows(values_only=True)
             if isinstance(row[0], int)]
    assert len(names) == 8 and "李老师" in names


def test_a_big_roster_too(client, org, login, small_exam, small_inline):
    login(org.secretary)
    reply = client.get("/manage/stats/roster.xlsx")
    assert reply.status_code == 302
    assert wait_for(client, reply.location)["state"] == "done"
    download = client.get(f"{reply.location}/download")
    rows = list(openpyxl.load_workbook(io.BytesIO(download.get_data())).active
                .iter_rows(values_only=True))
    download.close()
    assert rows[0][1] == "工号" and {r[2] for r in rows[1:]} >= {"李老师", "王书记"}
    assert "赵老师" not in {r[2] for r in rows[1:]}  # the secretary's subtree only


def test_a_job_is_its_owners_alone(client, org, login, small_exam, small_inline):
    login(org.admin)
    job_url = client.get(f"/manage/stats/exams/{small_exam.quiz.id}/scores.xlsx").location
    wait_for(client, job_url)
    client.post("/logout")
    login(org.secretary)
    for tail in ("", "/status", "/download"):
        assert client.get(f"{job_url}{tail}").status_code == 404
    assert client.get("/manage/exports/..%2F..%2Fetc/status").status_code == 404


def test_small_sheets_are_built_in_the_request(client, org, login, small_exam):
    login(org.admin)
    assert jobs.inline_rows() >= 8
    reply = client.get(f"/manage/stats/exams/{small_exam.quiz.id}/scores.xlsx")
    reply.get_data()
    reply.close()
    assert reply.status_code == 200 and re.search("spreadsheetml", reply.mimetype)


def test_a_job_in_the_shared_export_dir_is_answered_by_another_host(
        client, app, org, login, small_exam, small_inline, tmp_path, monkeypatch):
    """Several app hosts: the job runs on the host that started it, the page polls and
    downloads through whichever host nginx picks. With EXPORT_DIR on a folder they share,
    a host with another instance folder answers for the job."""
    shared = tmp_path / "shared-exports"
    monkeypatch.setitem(app.config, "EXPORT_DIR", str(shared))
    login(org.admin)
    job_url = client.get(f"/manage/stats/exams/{small_exam.quiz.id}/scores.xlsx").location
    jobs.wait(job_url.rsplit("/", 1)[-1])
    assert {path.suffix for path in shared.iterdir()} == {".json", ".bin"}
    # The other host: the same code, its own instance folder (nothing of the job in it).
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "other-host-instance"))
    assert client.get(f"{job_url}/status").get_json()["state"] == "done"
    download = client.get(f"{job_url}/download")
    assert download.status_code == 200 and download.get_data()[:2] == b"PK"
    download.close()
