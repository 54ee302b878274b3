"""Backup and restore (studyhall/backup.py, `flask backup` / `flask restore`), on SQLite
and PostgreSQL: a backup taken while answers keep being saved holds every answer
acknowledged before it started; a restore round trip gives back every row and file; an
altered archive, a manifest that lies, a schema revision that differs and a database
that is not empty are refused before anything is written."""

from __future__ import annotations

import io
import json
import re
import tarfile
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from studyhall import backup, storage
from studyhall.extensions import db
from studyhall.org.models import Person
from studyhall.quizzes.models import AttemptQuestion
from tests.app.conftest import _make_app


@pytest.fixture(autouse=True)
def english(app):
    """Messages in the source language, as the other app tests read them."""
    from flask_babel import force_locale

    with force_locale("en"):
        yield


@pytest.fixture()
def files(app, tmp_path):
    app.config["FILE_STORAGE_DIR"] = str(tmp_path / "files")
    yield tmp_path / "files"
    app.config.pop("FILE_STORAGE_DIR", None)


def _png() -> bytes:
    from tests.app.session_fixtures_e3 import png

    return png()


def _empty_the_database() -> None:
    """As the app fixture does after each test: every row gone, the schema kept."""
    db.session.remove()
    with db.engine.begin() as connection:
        for table in db.metadata.sorted_tables:
            for key in table.foreign_key_constraints:
                if key.use_alter:
                    connection.execute(table.update().values(
                        {column.name: None for column in key.columns}))
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture()
def restore_target(app, tmp_path):
    """Where a restore goes, entered as a context: on SQLite a second app with a database
    file that does not exist yet and its own storage folder; on PostgreSQL the same
    database (the test database is the only one we own), emptied first."""
    from contextlib import contextmanager

    from flask_babel import force_locale

    @contextmanager
    def target():
        if db.engine.url.get_backend_name() == "sqlite":
            other = _make_app(f"sqlite:///{tmp_path / 'restored.sqlite3'}",
                              FILE_STORAGE_DIR=str(tmp_path / "restored-files"))
            with other.app_context(), force_locale("en"):
                yield other
                db.session.remove()
                db.engine.dispose()
        else:
            _empty_the_database()
            app.config["FILE_STORAGE_DIR"] = str(tmp_path / "restored-files")
            yield app

    return target


def _rewrite(source: Path, target: Path, change) -> None:
    """A copy of the archive with ``change(name, data)`` applied to each member (None
    drops it); ``change`` may add members by returning a list of (name, data)."""
    with tarfile.open(source, "r:gz") as archive, tarfile.open(target, "w:gz") as out:
        for member in archive.getmembers():
            data = archive.extractfile(member).read()
            result = change(member.name, data)
            pairs = result if isinstance(result, list) else \
                ([] if result is None else [(member.name, result)])
            for name, content in pairs:
                info = tarfile.TarInfo(name)
                info.size = len(content)
                out.addfile(info, io.BytesIO(content))


def test_backup_while_answers_are_saved_holds_every_acknowledged_one(
        app, client, org, login, make_quiz, files, tmp_path, restore_target):
    quiz = make_quiz()
    login(org.teacher)
    attempt_id = int(re.search(r"/attempts/(\d+)",
                               client.post(f"/quizzes/{quiz.id}/start").location).group(1))
    acknowledged, errors, stop = [], [], threading.Event()

    def keep_saving():
        n = 0
        while not stop.is_set() and n < 5000:
            n += 1
            reply = client.post(f"/attempts/{attempt_id}/answers",
                                json={"position": 4, "response": [f"第{n}次"]})
            (acknowledged if reply.status_code == 200 else errors).append(n)

    writer = threading.Thread(target=keep_saving)
    writer.start()
    try:
        while len(acknowledged) < 20 and writer.is_alive():
            time.sleep(0.01)
        before = acknowledged[-1]  # acknowledged before the backup started
        result = backup.backup(tmp_path / "under-load.tar.gz")
        during = len(acknowledged)
        while len(acknowledged) < during + 10 and writer.is_alive():
            time.sleep(0.01)  # the app kept answering after the backup
    finally:
        stop.set()
        writer.join()
    assert errors == []
    assert acknowledged[-1] > before

    with restore_target():
        backup.restore(result.path)
        saved = db.session.get(AttemptQuestion, (attempt_id, 4)).response
        number = int(re.fullmatch(r"第(\d+)次", saved[0]).group(1))
        assert before <= number <= acknowledged[-1]


def test_round_trip_gives_back_every_row_and_file(app, org, files, tmp_path, restore_target):
    stored = storage.save_file(_png(), "合影.png", org.admin)
    db.session.commit()
    names = sorted(db.session.scalars(sa.select(Person.account)))
    result = backup.backup(tmp_path / "b.tar.gz")
    manifest = result.manifest
    assert manifest["revision"] == backup.code_revision()
    assert manifest["tables"]["person"] == len(names) and manifest["tables"]["unit"] == 5
    assert [f["sha256"] for f in manifest["files"]] == [stored.sha256]

    with restore_target() as target:
        backup.restore(result.path)
        assert sorted(db.session.scalars(sa.select(Person.account))) == names
        restored = db.session.scalars(sa.select(storage.StoredFile)).one()
        assert storage.read_file(restored) == _png()
        assert str(storage.storage_dir()).startswith(target.config["FILE_STORAGE_DIR"])
        backup.verify(manifest)  # the integrity check passes again on demand


def test_a_database_that_holds_rows_is_not_overwritten_without_force(app, org, files,
                                                                    tmp_path):
    result = backup.backup(tmp_path / "b.tar.gz")
    org.admin.name = "改过的名字"
    db.session.commit()
    with pytest.raises(backup.BackupError, match="already holds"):
        backup.restore(result.path)
    assert db.session.get(Person, org.admin.id).name == "改过的名字"
    backup.restore(result.path, force=True)
    assert db.session.get(Person, org.admin.id).name == "管理员"


def test_an_altered_archive_is_refused_before_anything_is_written(app, org, files, tmp_path,
                                                                 restore_target):
    storage.save_file(_png(), "合影.png", org.admin)
    db.session.commit()
    good = tmp_path / "b.tar.gz"
    backup.backup(good)

    def flip_file(name, data):
        return data[:-1] + bytes([data[-1] ^ 1]) if name.startswith("files/") else data

    def flip_database(name, data):
        return data[:100] + bytes([data[100] ^ 1]) + data[101:] \
            if name.startswith("database.") else data

    def drop_file(name, data):
        return None if name.startswith("files/") else data

    def add_member(name, data):
        return [(name, data), ("../../etc/cron.d/evil", b"* * * * * root true")] \
            if name == "manifest.json" else data

    def lie_about_rows(name, data):
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["tables"]["person"] += 1
        return json.dumps(manifest).encode()

    sqlite = db.engine.url.get_backend_name() == "sqlite"
    cases = {flip_file: "does not match the checksum", flip_database: "does not match the "
             "checksum", drop_file: "lacks", add_member: "does not list",
             # A dump is checked against its manifest once restored (not beforehand).
             lie_about_rows: "manifest does not describe" if sqlite else "the backup had"}
    with restore_target():
        for change, reason in cases.items():
            bad = tmp_path / f"{change.__name__}.tar.gz"
            _rewrite(good, bad, change)
            with pytest.raises(backup.BackupError, match=reason):
                backup.restore(bad)
            assert not (tmp_path.parent / "etc").exists()
            if sqlite:
                path = Path(db.engine.url.database)
                assert not path.exists() or path.stat().st_size == 0, change.__name__
        (tmp_path / "not-an-archive.tar.gz").write_bytes(b"PK\x03\x04 not a tar")
        with pytest.raises(backup.BackupError, match="not a backup archive"):
            backup.restore(tmp_path / "not-an-archive.tar.gz")


def test_a_backup_of_another_schema_revision_is_refused(app, org, files, tmp_path,
                                                       monkeypatch):
    result = backup.backup(tmp_path / "b.tar.gz")
    taken = result.manifest["revision"]
    monkeypatch.setattr(backup, "code_revision", lambda: "0123456789ab")
    with pytest.raises(backup.BackupError) as refused:
        backup.restore(result.path, force=True)
    message = str(refused.value)
    assert taken in message and "0123456789ab" in message and "db upgrade" in message


def test_the_commands(app, org, files, tmp_path):
    runner = app.test_cli_runner()
    out = tmp_path / "cli.tar.gz"
    done = runner.invoke(args=["backup", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert re.search(r"Backup written to .*cli\.tar\.gz: revision \w+, \d+ rows in \d+ "
                     r"tables, 0 files\.", done.output), done.output
    refused = runner.invoke(args=["restore", str(out)])
    assert refused.exit_code == 1 and "or add --force" in refused.output
    done = runner.invoke(args=["restore", str(out), "--force"])
    assert done.exit_code == 0, done.output
