"""Quiz load: N takers start the same exam at one instant, save answers, submit at once.

Against gunicorn (several workers) on SQLite and, when BENCH_DATABASE_URL is set, on
PostgreSQL. Beside it, in the same run and on the same server: a bare INSERT endpoint
(the ceiling) hammered with the same concurrency for as many requests as the save phase,
and a bare GET /bench/ping. Floors (PERFORMANCE.md): answer save ≥ 50% of the bare
INSERT's throughput with p99 < 200 ms; 200 starts within 1 s with 0 errors; 200
submits within 2 s, one grade each.

Per database and gunicorn worker class:

- setup, in-process: a fresh migrated database; N takers in one branch (cheap initial
  hash of a known password, no forced change); the sample bank; one published exam per
  run of 20 objective questions (fixed paper, options shuffled, 30 min limit);
- phase 0, not timed: each taker logs in (GET /login, POST /login with the CSRF token);
- per run (a new exam each time): phase 1, all POST /quizzes/<id>/start at one instant
  (an asyncio barrier), then GET the attempt page (its csrf meta tag and questions are
  parsed once the burst is over: ~4 ms of the client's CPU each, a phone's work); then
  each reloads the paper RELOADS times back to back, all released together, as the ping
  is asked for (the paper's throughput on its own: in the burst the pages queue behind
  the starts); phase 2, each saves ANSWERS answers (POST /attempts/<id>/answers, JSON,
  X-CSRFToken) back to back; phase 3, all POST /attempts/<id>/submit at one instant;
  then the ceiling: the same N concurrent clients each send ANSWERS POST /bench/insert;
- one more run with the saves paced at one per PACE seconds per taker (2 by default;
  each gap jittered ±25%, the first delay uniform over one gap), so latency at a stated
  load shows: the asked rate, takers ÷ PACE saves per second, is printed beside the
  rate served;
- after each run, in the database: exactly N attempts for that exam, all submitted and
  graded (score not null on the attempt and on every row), and every acknowledged (2xx)
  answer stored as sent, checked per answer.

Figures are medians over RUNS runs (3) of each step's throughput and percentiles; errors
are summed. The load client is one asyncio process with aiohttp on the same 2 cores as
the server, so it takes CPU from it: compare the ratio to the ceiling, not req/s.

    .venv/bin/python bench/run_all.py quiz_load
    .venv/bin/python bench/bench_quiz_load.py --takers 200 --answers 20 --workers 4 \
        --worker-class both --db both

Under run_all.py the options come from the environment: BENCH_QUIZ_TAKERS,
BENCH_QUIZ_ANSWERS, BENCH_QUIZ_WORKERS, BENCH_QUIZ_THREADS, BENCH_QUIZ_WORKER_CLASS
(sync | gthread | both), BENCH_QUIZ_DB (sqlite | postgresql | both), BENCH_QUIZ_RUNS,
BENCH_QUIZ_PACED (0 to skip the paced run), BENCH_QUIZ_PACE (seconds), BENCH_QUIZ_RELOADS.

Beside the latencies, the CPU each request cost the server (its gunicorn process group,
read from /proc), PostgreSQL's processes and the load client (this process), per phase:
on 2 shared cores, what a burst can take at best.

Needs aiohttp (a bench-only tool): .venv/bin/pip install aiohttp.
"""

# No "from __future__ import annotations": run_all.py loads this file without putting it
# in sys.modules, where dataclasses would look up string annotations.
import argparse
import asyncio
import contextlib
import io
import math
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import flask_migrate
import harness
import loadapp
import sqlalchemy as sa

try:
    import aiohttp
except ImportError:  # pragma: no cover - a bench-only tool
    raise SystemExit("bench_quiz_load needs aiohttp: .venv/bin/pip install aiohttp") from None

from studyhall import create_app
from studyhall.extensions import db

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
PASSWORD = "bench-taker-2024"
#: The objective mix of the exam's 20 questions.
PAPER_MIX = {"single": 8, "multiple": 4, "true_false": 5, "fill_blank": 3}
STEPS = ("start", "page", "page reload", "save", "submit", "ceiling INSERT", "ping")
REQUEST_TIMEOUT = 60
PHASE_TIMEOUT = 240
SERVER_START_TIMEOUT = 60
WARM_UP_TAKERS = 40
LOGIN_SECONDS_PER_TAKER = 1.0


# --- options ---------------------------------------------------------------------------

def parse_options(argv: list[str]) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--takers", type=int, default=int(env("BENCH_QUIZ_TAKERS", 200)))
    parser.add_argument("--answers", type=int, default=int(env("BENCH_QUIZ_ANSWERS", 20)))
    parser.add_argument("--workers", type=int, default=int(env("BENCH_QUIZ_WORKERS", 4)))
    parser.add_argument("--threads", type=int, default=int(env("BENCH_QUIZ_THREADS", 4)),
                        help="threads per gthread worker")
    parser.add_argument("--worker-class", default=env("BENCH_QUIZ_WORKER_CLASS", "both"),
                        choices=("sync", "gthread", "both"))
    parser.add_argument("--db", default=env("BENCH_QUIZ_DB", "both"),
                        choices=("sqlite", "postgresql", "both"))
    parser.add_argument("--runs", type=int, default=int(env("BENCH_QUIZ_RUNS", harness.REPEAT)))
    parser.add_argument("--paced", type=int, default=int(env("BENCH_QUIZ_PACED", 1)),
                        help="1: one more run with saves paced (see --pace); 0: skip it")
    parser.add_argument("--reloads", type=int, default=int(env("BENCH_QUIZ_RELOADS", 5)),
                        help="after the starts' burst, every taker reloads the paper this "
                             "many times back to back, all at once, as the ping is asked "
                             "for: the page's throughput on its own; 0: skip")
    parser.add_argument("--pace", type=float, default=float(env("BENCH_QUIZ_PACE", 2.0)),
                        help="the paced run's mean gap between one taker's saves, in "
                             "seconds (each gap jittered ±25%%); asks takers ÷ PACE saves/s")
    options = parser.parse_args(argv)
    if not options.pace > 0:
        parser.error("--pace must be a positive number of seconds")
    if not 1 <= options.answers <= sum(PAPER_MIX.values()):
        parser.error(f"--answers must be 1..{sum(PAPER_MIX.values())}")
    return options


# --- setup, in-process ------------------------------------------------------------------

def setup_database(url: str, takers: int, exams: int) -> tuple[list[str], list[int]]:
    """Migrate, then add the takers, the sample bank and ``exams`` published exams.
    Returns the takers' accounts and the exams' ids."""
    from studyhall.demo import seed_sample_bank
    from studyhall.model_helpers import utcnow
    from studyhall.org import operations as org_ops
    from studyhall.org.models import Person, PoliticalStatus, Role, UnitKind
    from studyhall.quizzes import operations as quiz_ops
    from studyhall.quizzes.models import Quiz

    app = create_app(loadapp.load_config(url))
    with app.app_context():
        with contextlib.redirect_stderr(io.StringIO()):
            flask_migrate.upgrade()
        loadapp.bench_insert.create(db.engine)
        top = org_ops.create_unit(None, "压测党委", UnitKind.COMMITTEE)
        general = org_ops.create_unit(top, "压测党总支", UnitKind.GENERAL_BRANCH)
        branch = org_ops.create_unit(general, "压测支部", UnitKind.BRANCH)
        admin = Person(account="bench-admin", name="管理员", unit=top, role=Role.ADMIN,
                       political_status=PoliticalStatus.CPC_MEMBER)
        admin.set_password(PASSWORD, initial=True)
        admin.must_change_password = False
        db.session.add(admin)
        db.session.flush()
        # One cheap hash for everybody: every taker has the same known password.
        probe = Person()
        probe.set_password(PASSWORD, initial=True)
        accounts = [f"taker{i:05d}" for i in range(takers)]
        db.session.execute(sa.insert(Person), [
            {"account": account, "name": f"考生{i}", "unit_id": branch.id,
             "political_status": PoliticalStatus.CPC_MEMBER, "role": Role.TEACHER,
             "password_hash": probe.password_hash, "must_change_password": False,
             "session_version": 1}
            for i, account in enumerate(accounts)])
        seed_sample_bank()
        db.session.flush()
        from studyhall.bank.models import Question
        ids = []
        for kind, count in PAPER_MIX.items():
            found = db.session.scalars(sa.select(Question.id).where(
                Question.type == kind, ~Question.is_deleted).order_by(Question.id)
                .limit(count)).all()
            assert len(found) == count, f"sample bank: {len(found)} {kind} questions"
            ids += found
        random.Random(7).shuffle(ids)
        now = utcnow()
        exam_ids = []
        for number in range(exams):
            quiz = Quiz(title=f"压测考试 {number + 1}", owner_unit_id=general.id,
                        opens_at=now - timedelta(minutes=5), closes_at=now + timedelta(hours=3),
                        time_limit_minutes=30, paper={"kind": "fixed", "question_ids": ids},
                        audience={"unit_ids": [branch.id]}, shuffle_options=True)
            db.session.add(quiz)
            db.session.flush()
            expected = quiz_ops.publish_quiz(admin, quiz, now=now)
            assert expected == takers, f"{expected} recipients"
            exam_ids.append(quiz.id)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return accounts, exam_ids


def verify_run(url: str, quiz_id: int, takers: int, acked: dict[tuple[int, int], object]
               ) -> dict[str, int]:
    """Check the run in the database; returns counts (raises on a failed check)."""
    from studyhall.quizzes.models import Attempt, AttemptQuestion, AttemptStatus

    app = create_app(loadapp.load_config(url))
    with app.app_context():
        attempts = db.session.scalars(sa.select(Attempt).where(Attempt.quiz_id == quiz_id)).all()
        problems = []
        if len(attempts) != takers:
            problems.append(f"{len(attempts)} attempts, expected {takers}")
        not_done = [a.id for a in attempts if a.status is not AttemptStatus.SUBMITTED
                    or a.score is None or a.submitted_at is None]
        if not_done:
            problems.append(f"{len(not_done)} attempts not submitted and graded: {not_done[:5]}")
        rows = {(row.attempt_id, row.position): row for row in db.session.scalars(
            sa.select(AttemptQuestion).join(Attempt).where(Attempt.quiz_id == quiz_id))}
        ungraded = sum(1 for row in rows.values() if row.score is None)
        if ungraded:
            problems.append(f"{ungraded} answer rows without a score")
        lost = [key for key, value in acked.items()
                if key not in rows or rows[key].response != value]
        if lost:
            problems.append(f"{len(lost)} of {len(acked)} acknowledged answers not stored as "
                            f"sent, e.g. {lost[:3]}")
        db.session.remove()
        db.engine.dispose()
    if problems:
        print("\n".join(["unexpected answers, the first few:", *UNEXPECTED]), flush=True)
        raise SystemExit("bench_quiz_load: check failed: " + "; ".join(problems))
    return {"attempts": len(attempts), "answers checked": len(acked)}


# --- the server -------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn(url: str, worker_class: str, workers: int, threads: int, log: Path):
    """gunicorn serving loadapp on 127.0.0.1 in its own process group, stopped (SIGTERM,
    then SIGKILL to the group) however the block ends."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
               "--workers", str(workers), "--worker-class", worker_class,
               "--pythonpath", f"{ROOT},{BENCH_DIR}", "--error-logfile", str(log),
               "--log-level", "warning", "--timeout", "60", "--backlog", "2048"]
    if worker_class == "gthread":
        # Idle connections are kept 30 s (gunicorn's default is 2 s): as a proxy in front
        # would keep them, and so that a taker's connection idle between its last save
        # and the submit is not closed under a request the client is sending on it.
        command += ["--threads", str(threads), "--keep-alive", "30"]
    command.append("loadapp:create()")
    env = {**os.environ, loadapp.URL_VARIABLE: url}
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        SERVER_GROUPS[base] = process.pid  # its own session: the group's id is its pid
        asyncio.run(wait_ready(base, process))
        yield base
    finally:
        SERVER_GROUPS.pop(base, None)
        stop_group(process)


#: base URL -> process group of the gunicorn serving it (master and workers).
SERVER_GROUPS: dict[str, int] = {}


def process_cpu(group: int) -> tuple[float, float]:
    """CPU seconds (user + system) used so far by the live processes of a process group,
    and by the live PostgreSQL processes (``postgres``: on this box only the benchmark
    uses it), from /proc; NaN where there is no /proc. A process that ended takes its
    seconds with it: a PostgreSQL backend when its connection closes (the pool keeps
    them open through a run), a worker that died (which the runs here do not do)."""
    server = database = 0.0
    found = False
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError, IndexError, ValueError):
                with open(f"/proc/{entry.name}/stat") as stat:
                    head, tail = stat.read().rsplit(")", 1)
                fields = tail.split()
                used = int(fields[11]) + int(fields[12])  # utime, stime
                if int(fields[2]) == group:  # pgrp
                    server += used
                    found = True
                elif head.endswith("(postgres"):
                    database += used
    tick = os.sysconf("SC_CLK_TCK")
    return (server / tick, database / tick) if found else (float("nan"), float("nan"))


class CpuMeter:
    """The CPU of the server (its gunicorn group), of PostgreSQL's processes and of the
    load client (this process) between two points: with all of them on the same cores,
    what each request costs each side."""

    def __init__(self, base: str) -> None:
        self.group = SERVER_GROUPS.get(base)
        self.server, self.database = self._processes()
        self.client = time.process_time()

    def _processes(self) -> tuple[float, float]:
        return process_cpu(self.group) if self.group else (float("nan"), float("nan"))

    def spent(self) -> tuple[float, float, float]:
        """(server, database, client) CPU seconds since the meter was made."""
        server, database = self._processes()
        return (server - self.server, database - self.database,
                time.process_time() - self.client)


def stop_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    # Workers left behind by a master that died first.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


async def wait_ready(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    async with aiohttp.ClientSession() as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"gunicorn exited with {process.returncode}")
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with client.get(f"{base}/bench/ping",
                                      timeout=aiohttp.ClientTimeout(total=2)) as response:
                    if response.status == 200:
                        # Every worker should have imported the app: a few more pings.
                        await asyncio.sleep(1.0)
                        return
            await asyncio.sleep(0.2)
    raise SystemExit("gunicorn did not answer within 60 s")


# --- the load client --------------------------------------------------------------------

CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
ATTEMPT_URL = re.compile(r"/attempts/(\d+)")


@dataclass
class Sample:
    """One request: when it started and ended (perf_counter seconds), its status, and
    whether the answer was the expected one (status and content: a redirect to the wrong
    place is an error too)."""

    start: float
    end: float
    status: int
    ok: bool = True


@dataclass
class Taker:
    account: str
    session: aiohttp.ClientSession
    csrf: str = ""
    attempt_id: int = 0
    questions: list[tuple[int, str, int]] = field(default_factory=list)  # position, type, n
    page: str = ""  # the paper page as received, parsed once the burst is over


def new_session(base: str) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        base_url=base, cookie_jar=aiohttp.CookieJar(unsafe=True),
        connector=aiohttp.TCPConnector(limit=1, force_close=False),
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT))


async def timed_request(session: aiohttp.ClientSession, method: str, url: str,
                        samples: list[Sample], expect=None, **kwargs) -> tuple[int, str, str]:
    """The request, timed from send to the last byte read. Returns status, body and
    Location; a connection failure counts as status 0. ``expect(status, body, location)``
    says whether the answer is the right one (default: any 2xx)."""
    start = time.perf_counter()
    try:
        async with session.request(method, url, allow_redirects=False, **kwargs) as response:
            body = await response.text()
            status, location = response.status, response.headers.get("Location", "")
    except (TimeoutError, aiohttp.ClientError) as exc:
        status, body, location = 0, repr(exc), ""
    ok = expect(status, body, location) if expect else 200 <= status < 300
    samples.append(Sample(start, time.perf_counter(), status, ok))
    if not ok and len(UNEXPECTED) < 5:
        UNEXPECTED.append(f"{method} {url}: {status} {location} {body[:200]!r}")
    return status, body, location


UNEXPECTED: list[str] = []


def redirect_to(pattern: str):
    target = re.compile(pattern)
    return lambda status, _body, location: status == 302 and bool(target.search(location))


def saved(status: int, body: str, _location: str) -> bool:
    return status == 200 and '"ok":true' in body.replace(" ", "")


async def log_in(taker: Taker, quiz_id: int) -> None:
    scratch: list[Sample] = []
    status, body, _ = await timed_request(taker.session, "GET", "/login", scratch)
    token = CSRF_INPUT.search(body)
    if status != 200 or token is None:
        raise SystemExit(f"GET /login: {status}")
    status, body, location = await timed_request(
        taker.session, "POST", "/login", scratch, expect=redirect_to("^/$"),
        data={"account": taker.account, "password": PASSWORD, "csrf_token": token.group(1)})
    if status != 302:
        raise SystemExit(f"POST /login for {taker.account}: {status} {body[:300]}")
    await fetch_start_token(taker, quiz_id)


async def fetch_start_token(taker: Taker, quiz_id: int) -> None:
    """The start page's form token (not timed): what a taker has before pressing Start."""
    scratch: list[Sample] = []
    status, body, _ = await timed_request(taker.session, "GET", f"/quizzes/{quiz_id}",
                                          scratch)
    token = CSRF_INPUT.search(body)
    if status != 200 or token is None:
        raise SystemExit(f"GET /quizzes/{quiz_id} for {taker.account}: {status}")
    taker.csrf = token.group(1)


class _PaperParser(HTMLParser):
    """Reads the paper by its data attributes, not its markup: any element carrying both
    data-position and data-type is a question (section, fieldset, whatever the classes or
    a `hidden` attribute), and its answer inputs are those named r<position>, wherever
    they sit. Choices: the radio/checkbox inputs (single, multiple), the text inputs
    (fill_blank), 2 for true/false, 1 for a textarea (short answer)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.csrf = ""
        self.kinds: dict[int, str] = {}
        self.inputs: dict[int, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "meta" and a.get("name") == "csrf-token":
            self.csrf = a.get("content") or ""
        position, kind = a.get("data-position"), a.get("data-type")
        if position and kind and position.isdigit():
            self.kinds.setdefault(int(position), kind)
        name = a.get("name") or ""
        if tag in ("input", "textarea") and name[:1] == "r" and name[1:].isdigit():
            self.inputs.setdefault(int(name[1:]), []).append(
                "textarea" if tag == "textarea" else (a.get("type") or "text").lower())

    handle_startendtag = handle_starttag


def parse_paper(body: str) -> tuple[str, list[tuple[int, str, int]]]:
    """(csrf token, [(position, type, choices)] in page order) from an attempt's page."""
    parser = _PaperParser()
    parser.feed(body)
    parser.close()
    questions = []
    for position, kind in parser.kinds.items():
        inputs = parser.inputs.get(position, [])
        if kind in ("single", "multiple"):
            choices = sum(t in ("radio", "checkbox") for t in inputs)
        elif kind == "fill_blank":
            choices = sum(t == "text" for t in inputs)
        elif kind == "true_false":
            choices = 2
        else:
            choices = len(inputs)
        questions.append((position, kind, choices))
    return parser.csrf, questions


def answer_for(kind: str, choices: int, rng: random.Random) -> tuple[object, object]:
    """(what the client sends, what the server stores) for one question."""
    letters = "ABCDEFGH"[:choices]
    if kind == "single":
        letter = rng.choice(letters)
        return letter, letter
    if kind == "multiple":
        picked = sorted(rng.sample(letters, rng.randint(2, choices)))
        return picked, picked
    if kind == "true_false":
        value = rng.random() < 0.5
        return ("true" if value else "false"), value
    blanks = [rng.choice(["中央委员会", "党员", "三会一课", "民主集中制"])
              for _ in range(choices)]
    return blanks, blanks


@dataclass
class RunResult:
    samples: dict[str, list[Sample]]
    start_span: float  # release to the last start answered
    submit_span: float  # release to the last submit answered
    acked: dict[tuple[int, int], object]
    #: phase -> (server, database, client) CPU s: "start and page" (the burst), "page
    #: reload", "save", "submit"
    cpu: dict[str, tuple[float, float, float]] = field(default_factory=dict)


async def run_exam(base: str, takers: list[Taker], quiz_id: int, answers: int,
                   pace: float | None, seed: int, reloads: int = 0) -> RunResult:
    """One exam: the starts' burst, ``reloads`` reloads of the paper by every taker
    (back to back, all at once), the saves (back to back, or ``pace`` seconds apart per
    taker on average, each gap jittered ±25%, the first delay uniform over one gap), the
    submits' burst."""
    samples = {step: [] for step in ("start", "page", "page reload", "save", "submit")}
    acked: dict[tuple[int, int], object] = {}
    cpu: dict[str, tuple[float, float, float]] = {}
    rng = random.Random(seed)
    await asyncio.wait_for(asyncio.gather(*(fetch_start_token(t, quiz_id) for t in takers)),
                           PHASE_TIMEOUT)

    # Phase 1: every taker presses Start at the same instant, then loads the paper.
    go = asyncio.Event()
    ready = 0

    async def start(taker: Taker) -> None:
        nonlocal ready
        ready += 1
        await go.wait()
        status, _, location = await timed_request(
            taker.session, "POST", f"/quizzes/{quiz_id}/start", samples["start"],
            expect=redirect_to(r"/attempts/\d+$"), data={"csrf_token": taker.csrf})
        found = ATTEMPT_URL.search(location)
        if status != 302 or found is None:
            return
        taker.attempt_id = int(found.group(1))
        status, body, _ = await timed_request(
            taker.session, "GET", f"/attempts/{taker.attempt_id}", samples["page"],
            expect=lambda status, body, _location: status == 200 and "csrf-token" in body)
        taker.page = body if status == 200 else ""

    tasks = [asyncio.create_task(start(t)) for t in takers]
    while ready < len(takers):
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)
    meter = CpuMeter(base)
    released = time.perf_counter()
    go.set()
    await asyncio.wait_for(asyncio.gather(*tasks), PHASE_TIMEOUT)
    cpu["start and page"] = meter.spent()
    start_span = max(s.end for s in samples["start"]) - released
    # Read the papers only now: parsing one takes the client ~4 ms of CPU (a phone's
    # work, not the server's), which inside the burst delayed the next requests and
    # took a core from the server.
    for taker in takers:
        if taker.page:
            taker.csrf, taker.questions = parse_paper(taker.page)
            taker.page = ""
    ready_takers = [t for t in takers if t.attempt_id and len(t.questions) >= answers]

    # The paper on its own: every taker reloads it RELOADS times, all released together,
    # as the bare ping is asked for (the burst's pages wait behind the starts).
    async def reload(taker: Taker) -> None:
        await go.wait()
        for _ in range(reloads):
            await timed_request(taker.session, "GET", f"/attempts/{taker.attempt_id}",
                                samples["page reload"],
                                expect=lambda status, body, _location: status == 200
                                and "csrf-token" in body)

    if reloads:
        go = asyncio.Event()
        tasks = [asyncio.create_task(reload(t)) for t in ready_takers]
        await asyncio.sleep(0.2)
        meter = CpuMeter(base)
        go.set()
        await asyncio.wait_for(asyncio.gather(*tasks), PHASE_TIMEOUT)
        cpu["page reload"] = meter.spent()

    # Phase 2: the answers, back to back, or one per ``pace`` s (jittered) when paced.
    async def save_all(taker: Taker, plan: list[tuple[int, object, object]]) -> None:
        if pace:
            await asyncio.sleep(rng.uniform(0, pace))
        for position, sent, stored in plan:
            status, body, _ = await timed_request(
                taker.session, "POST", f"/attempts/{taker.attempt_id}/answers",
                samples["save"], expect=saved,
                json={"position": position, "response": sent},
                headers={"X-CSRFToken": taker.csrf})
            if status == 200:
                acked[(taker.attempt_id, position)] = stored
            if pace:
                await asyncio.sleep(rng.uniform(0.75 * pace, 1.25 * pace))

    plans = {t.account: [(position, *answer_for(kind, n, rng))
                         for position, kind, n in t.questions[:answers]] for t in ready_takers}
    meter = CpuMeter(base)
    await asyncio.wait_for(asyncio.gather(*(save_all(t, plans[t.account])
                                            for t in ready_takers)), PHASE_TIMEOUT)
    cpu["save"] = meter.spent()

    # Phase 3: everybody submits at the same instant.
    go = asyncio.Event()
    ready = 0

    async def submit(taker: Taker) -> None:
        nonlocal ready
        ready += 1
        await go.wait()
        await timed_request(taker.session, "POST", f"/attempts/{taker.attempt_id}/submit",
                            samples["submit"], expect=redirect_to(r"/attempts/\d+/result$"),
                            data={"csrf_token": taker.csrf})

    tasks = [asyncio.create_task(submit(t)) for t in ready_takers]
    while ready < len(ready_takers):
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)
    meter = CpuMeter(base)
    released = time.perf_counter()
    go.set()
    await asyncio.wait_for(asyncio.gather(*tasks), PHASE_TIMEOUT)
    cpu["submit"] = meter.spent()
    submit_span = max((s.end for s in samples["submit"]), default=released) - released
    return RunResult(samples, start_span, submit_span, acked, cpu)


async def run_bare(base: str, concurrency: int, per_client: int, method: str, path: str,
                   cpu: list[tuple[float, float, float]] | None = None) -> list[Sample]:
    """``concurrency`` clients without cookies, each sending ``per_client`` requests back
    to back, released together. The CPU spent over it (CpuMeter.spent) is appended to
    ``cpu`` when given."""
    samples: list[Sample] = []
    sessions = [new_session(base) for _ in range(concurrency)]
    go = asyncio.Event()

    async def client(session: aiohttp.ClientSession) -> None:
        await go.wait()
        for _ in range(per_client):
            await timed_request(session, method, path, samples)

    try:
        tasks = [asyncio.create_task(client(s)) for s in sessions]
        await asyncio.sleep(0.2)
        meter = CpuMeter(base)
        go.set()
        await asyncio.wait_for(asyncio.gather(*tasks), PHASE_TIMEOUT)
        if cpu is not None:
            cpu.append(meter.spent())
    finally:
        await asyncio.gather(*(s.close() for s in sessions))
    return samples


# --- figures ----------------------------------------------------------------------------

def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), math.ceil(q / 100 * len(sorted_values))))
    return sorted_values[rank - 1]


def summarise(samples: list[Sample]) -> dict[str, float]:
    if not samples:
        return {"count": 0, "errors": 0, "req/s": 0.0, "p50": float("nan"),
                "p95": float("nan"), "p99": float("nan"), "max": float("nan")}
    latencies = sorted((s.end - s.start) * 1000 for s in samples)
    span = max(s.end for s in samples) - min(s.start for s in samples)
    return {"count": len(samples),
            "errors": sum(1 for s in samples if not s.ok),
            "req/s": len(samples) / span if span > 0 else float("nan"),
            "p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
            "p99": percentile(latencies, 99), "max": latencies[-1]}


def median_summary(runs: list[dict[str, float]]) -> dict[str, float]:
    summary = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    summary["count"] = sum(run["count"] for run in runs)
    summary["errors"] = sum(run["errors"] for run in runs)
    summary["max"] = max(run["max"] for run in runs)
    return summary


def error_statuses(samples: list[Sample]) -> str:
    counts: dict[int, int] = {}
    for sample in samples:
        if not sample.ok:
            counts[sample.status] = counts.get(sample.status, 0) + 1
    return ", ".join(f"{status}×{n}" for status, n in sorted(counts.items()))


# --- one configuration ------------------------------------------------------------------

async def load_session(base: str, accounts: list[str], exam_ids: list[int], options
                       ) -> dict:
    takers = [Taker(account, new_session(base)) for account in accounts]
    try:
        began = time.perf_counter()
        # Log in 50 at a time: not part of the exam, and login is not what is measured.
        limiter = asyncio.Semaphore(50)

        async def one(taker: Taker) -> None:
            async with limiter:
                await log_in(taker, exam_ids[0])

        # 1,000 takers' logins (three requests and a password check each) outlast the
        # phase timeout on a loaded box; they are not measured.
        await asyncio.wait_for(asyncio.gather(*(one(t) for t in takers)),
                               max(PHASE_TIMEOUT, LOGIN_SECONDS_PER_TAKER * len(takers)))
        print(f"    logged in {len(takers)} takers in {time.perf_counter() - began:.1f} s",
              flush=True)
        # Warm-up, not reported: some takers go through a whole exam, so that every
        # worker has loaded its templates and connections before anything is timed.
        few = takers[:WARM_UP_TAKERS]
        warm = await run_exam(base, few, exam_ids[0], options.answers, None, 99)
        for step, step_samples in warm.samples.items():
            if error_statuses(step_samples):
                print(f"      warm-up {step} errors: {error_statuses(step_samples)}")
        await asyncio.to_thread(verify_run, options.url, exam_ids[0], len(few), warm.acked)
        await run_bare(base, len(few), options.answers, "POST", "/bench/insert")
        exam_ids = exam_ids[1:]
        fast, ceilings, pings, spans = [], [], [], []
        bare_cpu: dict[str, list[tuple[float, float, float]]] = {"ceiling INSERT": [],
                                                                 "ping": []}
        for run in range(options.runs):
            result = await run_exam(base, takers, exam_ids[run], options.answers, None, run,
                                    options.reloads)
            for step, step_samples in result.samples.items():
                bad = error_statuses(step_samples)
                if bad:
                    print(f"      {step} errors: {bad}", flush=True)
            checked = await asyncio.to_thread(verify_run, options.url, exam_ids[run],
                                              len(takers), result.acked)
            ceiling = await run_bare(base, len(takers), options.answers, "POST",
                                     "/bench/insert", bare_cpu["ceiling INSERT"])
            ping = await run_bare(base, len(takers), options.answers, "GET", "/bench/ping",
                                  bare_cpu["ping"])
            fast.append(result)
            ceilings.append(ceiling)
            pings.append(ping)
            spans.append((result.start_span, result.submit_span))
            save, bare = summarise(result.samples["save"]), summarise(ceiling)
            print(f"    run {run + 1}: start all {result.start_span:.2f} s, submit all "
                  f"{result.submit_span:.2f} s, save {save['req/s']:.0f} req/s p99 "
                  f"{save['p99']:.0f} ms, ceiling {bare['req/s']:.0f} req/s p99 "
                  f"{bare['p99']:.0f} ms; verified {checked}", flush=True)
            if error_statuses(ceiling):
                print(f"      ceiling errors: {error_statuses(ceiling)}", flush=True)
        paced = None
        if options.paced:
            run = options.runs
            paced = await run_exam(base, takers, exam_ids[run], options.answers, options.pace,
                                   run)
            checked = await asyncio.to_thread(verify_run, options.url, exam_ids[run],
                                              len(takers), paced.acked)
            save = summarise(paced.samples["save"])
            print(f"    paced run, 1 save per {options.pace:g} s per taker: asked "
                  f"{asked_rate(options):.0f} saves/s, served {save['req/s']:.0f} req/s, "
                  f"p50 {save['p50']:.0f} "
                  f"p99 {save['p99']:.0f} max {save['max']:.0f} ms; verified {checked}",
                  flush=True)
    finally:
        await asyncio.gather(*(t.session.close() for t in takers))
    steps = {step: median_summary([summarise(r.samples[step]) for r in fast])
             for step in ("start", "page", "page reload", "save", "submit")}
    steps["ceiling INSERT"] = median_summary([summarise(c) for c in ceilings])
    steps["ping"] = median_summary([summarise(p) for p in pings])
    # CPU per request (ms): server, database, client, each the median over the runs. The
    # burst's is per taker: a start and its paper page.
    per_request = {}
    measured = {phase: [(r.cpu[phase], len(r.samples[step])) for r in fast
                        if phase in r.cpu and r.samples[step]]
                for phase, step in (("start and page", "start"), ("page reload", "page reload"),
                                    ("save", "save"), ("submit", "submit"))}
    for step, spent in bare_cpu.items():
        measured[step] = [(each, options.takers * options.answers) for each in spent]
    for phase, runs in measured.items():
        if runs:
            per_request[phase] = tuple(statistics.median(cpu[side] / n * 1000
                                                         for cpu, n in runs)
                                       for side in range(3))
    return {"steps": steps, "cpu": per_request,
            "paced": {step: summarise(paced.samples[step]) for step in ("save",)}
            if paced else None,
            "start_span": statistics.median(s for s, _ in spans),
            "submit_span": statistics.median(s for _, s in spans),
            "start_spans": [s for s, _ in spans], "submit_spans": [s for _, s in spans],
            "save_ratios": [summarise(r.samples["save"])["req/s"]
                            / summarise(c)["req/s"] for r, c in zip(fast, ceilings,
                                                                     strict=True)]}


def measure(database: str, url: str, worker_class: str, options, tmp: Path) -> dict:
    began = time.perf_counter()
    accounts, exam_ids = setup_database(url, options.takers, 1 + options.runs + options.paced)
    print(f"  {database}, {options.workers} {worker_class} workers"
          f"{f' × {options.threads} threads' if worker_class == 'gthread' else ''}: set up "
          f"{len(accounts)} takers, {len(exam_ids)} exams (one for a warm-up) in "
          f"{time.perf_counter() - began:.1f} s", flush=True)
    options.url = url
    log = tmp / f"gunicorn-{database}-{worker_class}.log"
    try:
        with gunicorn(url, worker_class, options.workers, options.threads, log) as base:
            figures = asyncio.run(load_session(base, accounts, exam_ids, options))
    finally:
        # Show the server's tracebacks even when the run's checks failed.
        tracebacks = log.read_text(errors="replace").count("Traceback") if log.exists() else 0
        if tracebacks:
            print(f"    gunicorn log: {tracebacks} tracebacks; last lines:\n"
                  + "\n".join(log.read_text(errors="replace").splitlines()[-40:]), flush=True)
    figures["tracebacks"] = tracebacks
    figures["seconds"] = time.perf_counter() - began
    return figures


def asked_rate(options) -> float:
    """The paced run's asked rate: each taker saves once per PACE seconds on average."""
    return options.takers / options.pace


def report(label: str, figures: dict, options) -> None:
    steps = figures["steps"]
    ceiling = steps["ceiling INSERT"]["req/s"]
    ping = steps["ping"]["req/s"]
    rows = []
    for step in STEPS:
        s = steps[step]
        if not s["count"]:
            continue
        versus = (f"{s['req/s'] / ceiling:.0%} of INSERT" if step == "save"
                  else f"{s['req/s'] / ping:.0%} of ping" if step.startswith("page")
                  else "")
        rows.append([step, s["count"], s["errors"], f"{s['req/s']:.0f}", f"{s['p50']:.1f}",
                     f"{s['p95']:.1f}", f"{s['p99']:.1f}", f"{s['max']:.1f}", versus])
    if figures["paced"]:
        s = figures["paced"]["save"]
        rows.append([f"save, paced 1/{options.pace:g} s", s["count"], s["errors"],
                     f"{s['req/s']:.0f}", f"{s['p50']:.1f}", f"{s['p95']:.1f}",
                     f"{s['p99']:.1f}", f"{s['max']:.1f}",
                     f"asked {asked_rate(options):.0f}/s"])
    print(f"\n{label}: median of {options.runs} runs (count and errors summed, max the "
          f"highest); ms")
    harness.print_table(["step", "count", "non-2xx/3xx", "req/s", "p50", "p95", "p99", "max",
                         "ratio"], rows)
    cpu_rows = [[phase, f"{server:.2f}", f"{database:.2f}", f"{client:.2f}",
                 f"{server + database + client:.2f}"]
                for phase, (server, database, client) in figures["cpu"].items()]
    print("CPU per request, ms (median of the runs; server: the gunicorn group; database: "
          "PostgreSQL's processes, SQLite's work being the server's; client: this "
          "process; 'start and page' is per taker, both requests):")
    harness.print_table(["phase", "server", "database", "client", "all"], cpu_rows)
    ratios = ", ".join(f"{r:.0%}" for r in figures["save_ratios"])
    print(f"save / ceiling per run: {ratios}; all {options.takers} starts answered in "
          f"{figures['start_span']:.2f} s (runs: "
          f"{', '.join(f'{s:.2f}' for s in figures['start_spans'])}); all submits in "
          f"{figures['submit_span']:.2f} s (runs: "
          f"{', '.join(f'{s:.2f}' for s in figures['submit_spans'])}); "
          f"{figures['seconds']:.0f} s in all", flush=True)


def main(argv: list[str] | None = None) -> dict[str, float]:
    options = parse_options(argv or [])
    with tempfile.TemporaryDirectory(prefix="bench-quiz-load-") as tmp:
        tmp_path = Path(tmp)
        urls = harness.database_urls(tmp_path)
        wanted = ["sqlite", "postgresql"] if options.db == "both" else [options.db]
        if "postgresql" in wanted and "postgresql" not in urls:
            print("BENCH_DATABASE_URL is not set: PostgreSQL skipped")
        classes = ["sync", "gthread"] if options.worker_class == "both" else [
            options.worker_class]
        print(f"quiz load: {options.takers} takers × {options.answers} answers, "
              f"{options.workers} gunicorn workers, {options.runs} runs + "
              f"{f'1 paced ({options.pace:g} s)' if options.paced else 'no paced'} run; "
              f"{options.reloads} paper reloads per taker per run; "
              f"client: asyncio + aiohttp "
              f"in this process", flush=True)
        results: dict[str, float] = {}
        for database in [d for d in wanted if d in urls]:
            for worker_class in classes:
                figures = measure(database, urls[database](), worker_class, options, tmp_path)
                label = f"{database}, gunicorn -w {options.workers} -k {worker_class}" + (
                    f" --threads {options.threads}" if worker_class == "gthread" else "")
                report(label, figures, options)
                for step, s in figures["steps"].items():
                    for key in ("req/s", "p99", "max", "errors"):
                        results[f"{database} {worker_class}: {step} {key}"] = s[key]
                results[f"{database} {worker_class}: start span s"] = figures["start_span"]
                results[f"{database} {worker_class}: submit span s"] = figures["submit_span"]
        return results


if __name__ == "__main__":
    main(sys.argv[1:])
