"""Uploaded files are all or nothing with the request (issue 12, the faults' left-overs):
a file is written before its row is committed, so a request that ends in a rollback (a
later file refused, an exception, the commit failing) removes the files it wrote; a file
whose content a committed row points at is never removed; `flask --app studyhall
sweep-files` finds what a killed process left."""

from __future__ import annotations

import hashlib
import io
import os
import time

import pytest
import sqlalchemy as sa

from studyhall import storage
from studyhall.extensions import db
from studyhall.sessions import files as session_files
from studyhall.sessions.models import SessionAttachment
from tests.app.conftest import _make_app
from tests.app.session_fixtures_e1 import *  # noqa: F403  (fixtures)
from tests.app.session_fixtures_e1 import jpeg_bytes
from tests.app.study_fixtures_s1 import PDF_BYTES


def on_disk(folder) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def upload(client, session, kind, *named_files):
    session_id = session if isinstance(session, int) else session.id
    return client.post(f"/manage/sessions/{session_id}/attachments",
                       data={"kind": kind, "caption": "",
                             "files": [(io.BytesIO(data), name) for name, data in named_files]},
                       content_type="multipart/form-data")


def test_a_photo_refused_after_another_leaves_no_file_of_either(
        client, login, branch, make_session, file_storage):
    """Before: the good photo's original and page copy stayed on disk, no row pointing
    at them."""
    session = make_session("held")
    login(branch.secretary)
    response = upload(client, session, "photo", ("good.jpg", jpeg_bytes(400, 300)),
                      ("bad.jpg", b"MZ\x90\x00 a program"))
    assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count(SessionAttachment.id))) == 0
    assert on_disk(file_storage) == []
    # The same photos sent again, the bad one left out, are kept whole.
    assert upload(client, session, "photo", ("good.jpg", jpeg_bytes(400, 300))
                  ).status_code == 302
    assert len(on_disk(file_storage)) == 2  # the original and its page copy


def test_a_page_copy_that_cannot_be_written_takes_the_original_with_it(
        client, login, branch, make_session, file_storage, monkeypatch):
    """The photo's second file fails (a full disk) after the original was stored: before,
    the original stayed, whole and unreferenced (RELIABILITY.md, left alone then)."""
    real = storage._write_whole
    calls = []

    def second_fails(path, data):
        calls.append(path)
        if len(calls) == 2:
            raise storage.UploadError("disk full")
        real(path, data)

    monkeypatch.setattr(storage, "_write_whole", second_fails)
    session = make_session("held")
    login(branch.secretary)
    response = upload(client, session, "photo", ("a.jpg", jpeg_bytes(500, 300)))
    assert response.status_code == 422 and len(calls) == 2
    assert on_disk(file_storage) == []


@pytest.fixture()
def production(database_app, branch, tmp_path):
    """The app as production runs it (its own error handlers: an exception is a 500
    page, not raised into the test), files in a temporary folder."""
    app = _make_app(database_app.config["SQLALCHEMY_DATABASE_URI"], TESTING=False,
                    FILE_STORAGE_DIR=str(tmp_path / "prod-files"))
    yield app, tmp_path / "prod-files"
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def signed_in(app, branch):
    account = branch.secretary.account
    db.session.rollback()  # the test's own transaction holds SQLite's lock otherwise
    client = app.test_client()
    assert client.post("/login", data={"account": account,
                                       "password": "correct-horse-9"}).status_code == 302
    return client


def test_an_exception_after_the_files_were_written_removes_them(
        production, branch, make_session, monkeypatch):
    app, folder = production
    session = make_session("held").id
    real = session_files.save_attachment

    def saved_then_broken(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("a defect after the file was written")

    monkeypatch.setattr(session_files, "save_attachment", saved_then_broken)
    client = signed_in(app, branch)
    response = upload(client, session, "attachment", ("通知.pdf", PDF_BYTES))
    assert response.status_code == 500
    assert on_disk(folder) == []


def test_a_commit_that_fails_removes_the_files_written(
        production, branch, make_session, monkeypatch):
    """The database goes away under the request's commit (503): nothing was
    acknowledged, and nothing of it stays on disk."""
    from sqlalchemy.exc import OperationalError

    app, folder = production
    session = make_session("held").id
    client = signed_in(app, branch)
    with app.app_context():
        real_commit = db.session.commit

        def failing_commit():
            raise OperationalError("COMMIT", {}, Exception("server closed the connection"))

        monkeypatch.setattr(db.session, "commit", failing_commit)
        response = upload(client, session, "attachment", ("通知.pdf", PDF_BYTES))
        monkeypatch.setattr(db.session, "commit", real_commit)
    assert response.status_code == 503
    assert on_disk(folder) == []


def test_a_file_whose_content_a_committed_row_points_at_is_never_removed(app, org,
                                                                         file_storage):
    """Files are kept by content: another request may store the same bytes. A rollback
    removes only what no committed row points at, and a commit puts back a file that
    another request's rollback removed meanwhile."""
    kept = storage.save_file(PDF_BYTES, "a.pdf", org.admin)
    db.session.commit()
    path = storage._path_of(kept.sha256)
    # Request B finds the file there and does not write it; before B commits, request A
    # (which wrote the same content, say) rolls back and removes it.
    again = storage.save_file(PDF_BYTES, "b.pdf", org.admin)
    path.unlink()
    db.session.commit()
    assert path.read_bytes() == PDF_BYTES and again.id != kept.id

    # A writes the file (it is missing: restored from a backup without files, say) and
    # rolls back: a committed row points at it, so it is written back, not removed.
    path.unlink()
    storage.save_file(PDF_BYTES, "c.pdf", org.admin)
    db.session.rollback()
    assert path.read_bytes() == PDF_BYTES

    # Content nobody committed goes with the rollback.
    other = PDF_BYTES.replace(b"%PDF-1.4", b"%PDF-1.5", 1)
    assert other != PDF_BYTES
    lost = storage._path_of(storage.save_file(other, "d.pdf", org.admin).sha256)
    assert lost.exists()
    db.session.rollback()
    assert not lost.exists()


def test_a_savepoint_released_keeps_the_files_until_the_transaction_commits(
        app, org, file_storage):
    with db.session.begin_nested():
        stored = storage.save_file(PDF_BYTES, "a.pdf", org.admin)
    path = storage._path_of(stored.sha256)
    db.session.rollback()
    assert not path.exists()


def test_sweep_files_removes_only_old_files_no_row_points_to(app, org, file_storage):
    kept = storage.save_file(PDF_BYTES, "a.pdf", org.admin)
    db.session.commit()
    kept_path = storage._path_of(kept.sha256)
    old = time.time() - 2 * 3600
    orphan = storage._path_of("ab" * 32)
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"left by a killed process")
    scratch = kept_path.parent / "tmpk1ll3d"  # a write killed before its rename
    scratch.write_bytes(b"half")
    young = storage._path_of("cd" * 32)  # being uploaded now: its row is not committed
    young.parent.mkdir(parents=True, exist_ok=True)
    young.write_bytes(b"in flight")
    for path in (kept_path, orphan, scratch):
        os.utime(path, (old, old))

    runner = app.test_cli_runner()
    result = runner.invoke(args=["sweep-files", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert str(orphan) in result.output and str(scratch) in result.output
    assert str(kept_path) not in result.output and str(young) not in result.output
    assert "有 2 个文件没有任何记录引用（共 28 字节）；未删除" in result.output
    assert orphan.exists() and scratch.exists()

    result = runner.invoke(args=["sweep-files"])
    assert result.exit_code == 0, result.output
    assert "已删除 2 个没有任何记录引用的文件（共 28 字节）" in result.output
    assert not orphan.exists() and not scratch.exists()
    assert kept_path.read_bytes() == PDF_BYTES and young.exists()
    assert storage.read_file(kept) == PDF_BYTES


def test_a_row_committed_while_the_sweep_runs_keeps_its_file(app, org, file_storage,
                                                             monkeypatch):
    """The sweep lists the rows, then walks the folder: a request that stores the content
    of an old orphan file (finding it there, so not writing it) and commits in between
    must not lose its file. Before, the sweep removed it on the list it read first, and
    the committed row pointed at nothing."""
    orphan = storage._path_of(hashlib.sha256(PDF_BYTES).hexdigest())
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(PDF_BYTES)
    old = time.time() - 2 * 3600
    os.utime(orphan, (old, old))
    real_walk = os.walk
    stored = []

    def walk_after_a_commit(*args, **kwargs):
        # The request commits after the sweep read which files rows point to.
        stored.append(storage.save_file(PDF_BYTES, "a.pdf", org.admin))
        db.session.commit()
        return real_walk(*args, **kwargs)

    monkeypatch.setattr(storage.os, "walk", walk_after_a_commit)
    found = storage.sweep()
    monkeypatch.setattr(storage.os, "walk", real_walk)
    assert found == []
    assert storage.read_file(stored[0]) == PDF_BYTES
