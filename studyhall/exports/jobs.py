"""Exports too big for a request: built in a background thread into EXPORT_DIR (default
the instance folder's exports/), with a progress file the page polls, then downloaded
(PERFORMANCE.md, trap 5: a 100,000-row sheet takes longer than a worker's 30 s timeout on
a busy box).

A job reads only, in one transaction on one snapshot (``snapshot.read_one_snapshot``:
REPEATABLE READ on PostgreSQL, one deferred read transaction on SQLite), so every sheet
of its file reads the same data and on SQLite a running exam keeps saving while it
reads; it runs in its own thread with its own session. The status is a small JSON file
beside the file being built, so any worker of the same host can answer for it, and any
app host when EXPORT_DIR is a folder they share
(deploy/README.md); a job belongs to the person who started it (anyone else gets 404).
Files are kept a day.

A host that dies (kill -9, a power cut) leaves its jobs "running" in their status files.
So a running job beats: its status is written at least every HEARTBEAT_SECONDS (with its
progress, or by a timer while a long query gives none), and a job whose last beat is
older than STALE_SECONDS reads as "interrupted". Its owner may start it again: the same
job, from the recipe it was started with (a registered builder and its JSON parameters,
so any host can run it). Each run has a number; starting run n claims the file
``<id>.run<n>`` (created exclusively, so two clicks or two hosts start one run), and a
run that finds the next one claimed stops without writing: one job never has two live
runs.
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

from flask import Flask, abort, current_app
from flask_babel import force_locale

from studyhall.errors import InsufficientStorage
from studyhall.extensions import db

#: Sheets of fewer people than this are built in the request (a few seconds at most).
INLINE_ROWS = 5000
KEEP_SECONDS = 24 * 3600
#: Kinds of job: a sheet (stats/routes.py serves it) or an inspection archive
#: (stats/routes_archive.py serves it, audited).
SHEET, ARCHIVE = "sheet", "archive"
#: A running job writes its status at least this often, and reads as interrupted when
#: its last write is older than STALE_SECONDS (EXPORT_JOB_STALE_SECONDS in the config).
HEARTBEAT_SECONDS = 10
STALE_SECONDS = 60
RUNNING, DONE, FAILED, INTERRUPTED = "running", "done", "failed", "interrupted"
_JOB_ID = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
log = logging.getLogger(__name__)


def inline_rows() -> int:
    return int(current_app.config.get("EXPORT_INLINE_ROWS", INLINE_ROWS))


def _folder(app: Flask) -> Path:
    """EXPORT_DIR, or the instance folder's exports/. Several app hosts share EXPORT_DIR:
    the job runs on the host that started it, its status is read by any."""
    configured = app.config.get("EXPORT_DIR")
    folder = Path(configured) if configured else Path(app.instance_path) / "exports"
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


Build = Callable[[object, str, Callable[[int], None]], None]
#: Recipes by name: a factory making the build from JSON parameters, and a check that
#: the person starting it again may still see what it exports (raises 404 otherwise).
_recipes: dict[str, tuple[Callable[..., Build], Callable[..., None] | None]] = {}


def recipe(name: str, check: Callable[..., None] | None = None):
    """Register ``factory(**params) -> build`` under ``name``: a job started from it can
    be started again on any host. ``check(viewer, **params)`` runs before a restart."""
    def register(factory):
        _recipes[name] = (factory, check)
        return factory
    return register


def start(owner_id: int, name: str, fallback: str, total: int, recipe_name: str,
          params: dict, *, kind: str = SHEET, details: dict | None = None) -> str:
    """Start the registered recipe ``recipe_name`` with ``params`` (JSON) in a thread for
    the person ``owner_id``: ``build(viewer, path, progress)``; returns the job's id.
    ``name`` and ``fallback`` are the file's download names; ``kind`` says which pages
    answer for the job (an archive's download is audited, so the sheets' download page
    must not serve it); ``details`` are kept in the status for the page that serves the
    file."""
    app = current_app._get_current_object()
    job_id = secrets.token_urlsafe(16)
    now = time.time()
    status = {"owner": owner_id, "kind": kind, "name": name, "fallback": fallback,
              "state": RUNNING, "done": 0, "total": total, "started": now, "beat": now,
              "run": 1, "recipe": recipe_name, "params": params, **(details or {})}
    build = _recipes[recipe_name][0](**params)
    try:
        _clean(app)
        _write_status(app, job_id, status)
    except OSError as exc:
        # The exports folder's disk is full (or unwritable): a clear page, not a 500.
        log.error("export %s could not start: %s", job_id, exc)
        raise InsufficientStorage() from exc
    _launch(app, job_id, status, build)
    return job_id


def _launch(app: Flask, job_id: str, status: dict, build: Build) -> None:
    thread = threading.Thread(target=_run, args=(app, job_id, status, build), daemon=True,
                              name=f"export-{job_id}")
    _running[job_id] = thread
    thread.start()


def restart(job_id: str, owner_id: int, kind: str = SHEET) -> bool:
    """Start an interrupted (or failed) job of ``owner_id``'s again, as a new run of the
    same job. True when it was started here; False when it is not theirs, not
    interrupted or failed, or when a click that came first started it (which records
    the restart: a double click is one restart)."""
    status = get_status(job_id, owner_id, kind)
    if status is None or status["state"] not in (INTERRUPTED, FAILED) \
            or status.get("recipe") not in _recipes:
        return False
    factory, check = _recipes[status["recipe"]]
    if check is not None:
        from flask_login import current_user

        check(current_user, **status["params"])
    app = current_app._get_current_object()
    run = int(status.get("run", 1)) + 1
    while True:
        claim = _claim_path(app, job_id, run)
        try:
            descriptor = os.open(claim, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            if not _abandoned(claim):
                return False  # another click (or host) started this run
            run += 1  # its claimant died before it wrote the status: the next run
            continue
        except OSError as exc:
            log.error("export %s could not start again: %s", job_id, exc)
            raise InsufficientStorage() from exc
        os.close(descriptor)
        break
    now = time.time()
    status.update(state=RUNNING, done=0, started=now, beat=now, run=run)
    status.pop("finished", None)
    try:
        _write_status(app, job_id, status)
    except OSError as exc:
        # Nothing runs: give the claim back, or every later click would find the run
        # "started by another" and the job would stay interrupted for its day.
        claim.unlink(missing_ok=True)
        log.error("export %s could not start again: %s", job_id, exc)
        raise InsufficientStorage() from exc
    _launch(app, job_id, status, factory(**status["params"]))
    return True


def _claim_path(app: Flask, job_id: str, run: int) -> Path:
    return _folder(app) / f"{job_id}.run{run}"


def _abandoned(claim: Path) -> bool:
    """Whether a claim is older than a beat may be while the status still names the run
    before it: the host that claimed it died before writing the status (which it does at
    once), so no run of it is live and the job would otherwise stay interrupted."""
    try:
        return time.time() - claim.stat().st_mtime > stale_seconds()
    except FileNotFoundError:
        return False


class _Superseded(Exception):
    """This run was taken for dead and started again: it stops without writing."""


#: Jobs of this process still building, by id (each removes itself when it ends).
_running: dict[str, threading.Thread] = {}


def wait(job_id: str) -> None:
    """Return once this process's job ``job_id`` has ended (at once if it has, or if it
    runs elsewhere). For commands and tests; pages poll the status instead."""
    thread = _running.get(job_id)
    if thread is not None:
        thread.join()


def _run(app: Flask, job_id: str, status: dict, build) -> None:
    from studyhall.exports import snapshot
    from studyhall.org.models import Person

    run = int(status.get("run", 1))
    target = _folder(app) / f"{job_id}.r{run}.part"
    last = [0.0]
    lock = threading.Lock()
    stopped = threading.Event()

    def superseded() -> bool:
        return _claim_path(app, job_id, run + 1).exists()

    def beat() -> None:
        """Write the status with a fresh beat, unless a later run has taken over."""
        with lock:
            if superseded():
                raise _Superseded()
            last[0] = time.monotonic()
            status["beat"] = time.time()
            _write_status(app, job_id, status)

    def progress(n: int) -> None:
        status["done"] += n
        if time.monotonic() - last[0] > 0.5:
            beat()

    def heartbeat() -> None:
        # A long query between two progress calls must not look like a dead host.
        while not stopped.wait(_heartbeat_seconds(app)):
            if time.monotonic() - last[0] >= _heartbeat_seconds(app):
                try:
                    beat()
                except _Superseded:
                    return
                except OSError:
                    log.exception("export %s: its heartbeat could not be written", job_id)

    beating = threading.Thread(target=heartbeat, daemon=True, name=f"export-{job_id}-beat")
    beating.start()
    with app.app_context():
        try:
            # Every sheet of the file reads one snapshot (a unit summary agrees with its
            # people's rows while an exam commits), and reads only.
            snapshot.read_one_snapshot()
            viewer = db.session.get(Person, status["owner"])
            with force_locale("zh_CN"):
                build(viewer, str(target), progress)
            with lock:
                if superseded():
                    raise _Superseded()
                os.replace(target, _folder(app) / f"{job_id}.bin")
            status["state"] = DONE
        except _Superseded:
            log.warning("export %s: run %d was started again elsewhere; this one stops",
                        job_id, run)
            status["state"] = None
            target.unlink(missing_ok=True)
        except Exception:  # the page says it failed; the log says why
            log.exception("export %s failed", job_id)
            status["state"] = FAILED
            target.unlink(missing_ok=True)
        finally:
            stopped.set()
            db.session.remove()
            status["finished"] = time.time()
            with lock:
                if status["state"] is not None and not superseded():
                    try:
                        _write_status(app, job_id, status)
                    except OSError:
                        log.exception("export %s: its status could not be written", job_id)
            if _running.get(job_id) is threading.current_thread():
                del _running[job_id]  # a later run of the job in this process stays


def _heartbeat_seconds(app: Flask) -> float:
    return float(app.config.get("EXPORT_JOB_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS))


def stale_seconds() -> float:
    return float(current_app.config.get("EXPORT_JOB_STALE_SECONDS", STALE_SECONDS))


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
    beat = status.get("beat", status.get("started", 0))
    if status.get("state") == RUNNING and time.time() - beat > stale_seconds():
        # Its host stopped beating: it died (or the job's thread with it).
        status["state"] = INTERRUPTED
    return status


def get_status_or_404(job_id: str, owner_id: int, kind: str = SHEET) -> dict:
    """:func:`get_status`, or a 404 for a job that is not this person's (of this kind)."""
    status = get_status(job_id, owner_id, kind)
    if status is None:
        abort(404)
    return status


def progress_of(status: dict) -> dict:
    """What the job's page polls for: its state, and how far it has come."""
    return {"state": status["state"], "done": status["done"], "total": status["total"]}


def can_restart(status: dict) -> bool:
    """Whether the job's page offers to start it again."""
    return status["state"] in (INTERRUPTED, FAILED) and status.get("recipe") in _recipes


def _clean(app: Flask) -> None:
    """Delete jobs older than a day."""
    cutoff = time.time() - KEEP_SECONDS
    for path in _folder(app).iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            continue
