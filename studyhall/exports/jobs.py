"""Exports too big for a request: built in a background thread into the instance folder,
with a progress file the page polls, then downloaded (PERFORMANCE.md, trap 5: a
100,000-row sheet takes longer than a worker's 30 s timeout on a busy box).

A job reads only: its transaction begins deferred (``database.read_only``), so on SQLite
a running exam keeps saving while it reads, and it runs in its own thread with its own
session. The status is a small JSON file beside the file being built, so any worker of
the same host can answer for it; a job belongs to the person who started it (anyone else
gets 404). Files are kept a day.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path

from flask import Flask, current_app
from flask_babel import force_locale

from studyhall.errors import InsufficientStorage
from studyhall.extensions import db

#: Sheets of fewer people than this are built in the request (a few seconds at most).
INLINE_ROWS = 5000
KEEP_SECONDS = 24 * 3600
#: Kinds of job: a sheet (stats/routes.py serves it) or an inspection archive
#: (stats/routes_archive.py serves it, audited).
SHEET, ARCHIVE = "sheet", "archive"
_JOB_ID = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
log = logging.getLogger(__name__)


def inline_rows() -> int:
    return int(current_app.config.get("EXPORT_INLINE_ROWS", INLINE_ROWS))


def _folder(app: Flask) -> Path:
    folder = Path(app.instance_path) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _status_path(app: Flask, job_id: str) -> Path:
    return _folder(app) / f"{job_id}.json"


def file_path(job_id: str) -> Path:
    return _folder(current_app) / f"{job_id}.bin"


def _write_status(app: Flask, job_id: str, status: dict) -> None:
    path = _status_path(app, job_id)
    scratch = path.with_suffix(".tmp")
    text = json.dumps(status, ensure_ascii=False)
    try:
        scratch.write_text(text, encoding="utf-8")
        os.replace(scratch, path)
    except OSError:
        scratch.unlink(missing_ok=True)
        if not path.exists():
            raise
        # A full disk: the status file's own blocks, freed by truncating it, take the new
        # status (it only grows by a few digits), so the page still learns how it ended.
        path.write_text(text, encoding="utf-8")


def start(owner_id: int, name: str, fallback: str, total: int,
          build: Callable[[object, str, Callable[[int], None]], None], *,
          kind: str = SHEET, details: dict | None = None) -> str:
    """Start ``build(viewer, path, progress)`` in a thread for the person ``owner_id``;
    returns the job's id. ``name`` and ``fallback`` are the file's download names;
    ``kind`` says which pages answer for the job (an archive's download is audited, so
    the sheets' download page must not serve it); ``details`` are kept in the status for
    the page that serves the file."""
    app = current_app._get_current_object()
    job_id = secrets.token_urlsafe(16)
    status = {"owner": owner_id, "kind": kind, "name": name, "fallback": fallback,
              "state": "running", "done": 0, "total": total, "started": time.time(),
              **(details or {})}
    try:
        _clean(app)
        _write_status(app, job_id, status)
    except OSError as exc:
        # The exports folder's disk is full (or unwritable): a clear page, not a 500.
        log.error("export %s could not start: %s", job_id, exc)
        raise InsufficientStorage() from exc
    thread = threading.Thread(target=_run, args=(app, job_id, status, build), daemon=True,
                              name=f"export-{job_id}")
    _running[job_id] = thread
    thread.start()
    return job_id


#: Jobs of this process still building, by id (each removes itself when it ends).
_running: dict[str, threading.Thread] = {}


def wait(job_id: str) -> None:
    """Return once this process's job ``job_id`` has ended (at once if it has, or if it
    runs elsewhere). For commands and tests; pages poll the status instead."""
    thread = _running.get(job_id)
    if thread is not None:
        thread.join()


def _run(app: Flask, job_id: str, status: dict, build) -> None:
    from studyhall.database import read_only
    from studyhall.org.models import Person

    target = _folder(app) / f"{job_id}.part"
    last = [0.0]

    def progress(n: int) -> None:
        status["done"] += n
        if time.monotonic() - last[0] > 0.5:
            last[0] = time.monotonic()
            _write_status(app, job_id, status)

    with app.app_context():
        read_only()
        try:
            viewer = db.session.get(Person, status["owner"])
            with force_locale("zh_CN"):
                build(viewer, str(target), progress)
            os.replace(target, _folder(app) / f"{job_id}.bin")
            status["state"] = "done"
        except Exception:  # the page says it failed; the log says why
            log.exception("export %s failed", job_id)
            status["state"] = "failed"
            target.unlink(missing_ok=True)
        finally:
            db.session.remove()
            status["finished"] = time.time()
            try:
                _write_status(app, job_id, status)
            except OSError:
                log.exception("export %s: its status could not be written", job_id)
            _running.pop(job_id, None)


def get_status(job_id: str, owner_id: int, kind: str = SHEET) -> dict | None:
    """The job's status, or None when there is no such job of this person's (of this
    kind)."""
    if not job_id or any(ch not in _JOB_ID for ch in job_id):
        return None
    try:
        status = json.loads(_status_path(current_app, job_id).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if status.get("owner") != owner_id or status.get("kind", SHEET) != kind:
        return None
    return status


def _clean(app: Flask) -> None:
    """Delete jobs older than a day."""
    cutoff = time.time() - KEEP_SECONDS
    for path in _folder(app).iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            continue
