"""Check-in burst: a hall of N teachers (500) scans the meeting-room QR code.

Against gunicorn (several sync workers) on SQLite and, when BENCH_DATABASE_URL is set, on
PostgreSQL. Beside it, in the same run and on the same server: the same N clients send
one bare INSERT each at one instant (the ceiling, loadapp's POST /bench/insert).
Floor (PERFORMANCE.md): 500 check-ins within 10 s, each person once, 0 errors; aim
within 2 s. ANCHORS.md: 0 false refusals in 500 scripted scans.

- setup, in-process: a fresh migrated database; N teachers in one branch (one cheap hash
  of a known password); one published session per run (+ a warm-up), starting in two
  minutes, with its N Attendance rows, as publishing leaves them;
- phase 0, not timed: each teacher logs in (GET /login, POST /login), 50 at a time;
- per run (a new session each time):
  1. burst: all N scan at one instant (an asyncio barrier): GET /checkin/<id>/<token>
     with the token of the step the server's clock is in when they are released; each
     expects the redirect to its result page, then loads it and expects 签到成功;
  2. again: all N scan once more at one instant; each expects the result page to say
     已签到过 (one check-in per person, whatever they send);
  3. the ceiling: all N send one POST /bench/insert at one instant;
  4. the hall, paced: the N scan at random moments over 10 s (~50 a second), each
     reading the code the screen shows at that moment (the screen fetches each step's
     code up to 1 s late) and sending it 0.5–3 s later (the camera decodes, the browser
     opens; or the digits are typed), so scans cross step boundaries; one in ten types
     the 6-digit code instead (GET /checkin for the form beforehand, then POST the code).
     Every scan must succeed: any refusal is a false refusal;
- after each phase, in the database: exactly N rows present, each with one check-in time
  and method, and one device hash per client; the again burst changed nothing.

Figures are medians over RUNS runs (3): the span from the release to the last answer,
and latency percentiles; errors and false refusals are summed over the runs. The load
client is one asyncio process on the same 2 cores as the server: compare with the
ceiling measured beside it, not across machines.

    .venv/bin/python bench/run_all.py checkin
    .venv/bin/python bench/bench_checkin.py --people 500 --workers 4 --db both --runs 3
    .venv/bin/python bench/bench_checkin.py --profile [--db sqlite|postgresql]

``--profile`` instead measures one process with Flask's test client: the CPU time of a
scan, a second scan, a result page and a bare INSERT (process time, so other work on the
box matters less than in wall time), and prints cProfile's top functions for the scans.

Under run_all.py the options come from the environment: BENCH_CHECKIN_PEOPLE,
BENCH_CHECKIN_WORKERS, BENCH_CHECKIN_DB (sqlite | postgresql | both), BENCH_CHECKIN_RUNS.
Needs aiohttp (a bench-only tool): .venv/bin/pip install aiohttp.
"""

# No "from __future__ import annotations": run_all.py loads this file without putting it
# in sys.modules, where dataclasses would look up string annotations.
import argparse
import asyncio
import contextlib
import io
import os
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import bench_quiz_load as load
import flask_migrate
import harness
import loadapp
import sqlalchemy as sa

from studyhall import create_app
from studyhall.extensions import db

PASSWORD = "bench-teacher-2024"
PACED_SECONDS = 10.0
#: The screen shows a step's code from this long after the step began at the latest
#: (it fetches the next one 250 ms after each step, plus the request).
SCREEN_LAG = (0.0, 1.0)
#: Between reading the code and the request leaving the phone.
PHONE_DELAY = (0.5, 3.0)
CODE_SHARE = 10  # one in ten types the code
OUTCOME = re.compile(r'data-outcome="([a-z_]+)"')


def parse_options(argv: list[str]) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=int(env("BENCH_CHECKIN_PEOPLE", 500)))
    parser.add_argument("--workers", type=int, default=int(env("BENCH_CHECKIN_WORKERS", 4)))
    parser.add_argument("--db", default=env("BENCH_CHECKIN_DB", "both"),
                        choices=("sqlite", "postgresql", "both"))
    parser.add_argument("--runs", type=int,
                        default=int(env("BENCH_CHECKIN_RUNS", harness.REPEAT)))
    parser.add_argument("--profile", action="store_true",
                        help="one process, test client: CPU per request and a profile")
    return parser.parse_args(argv)


# --- setup, in-process ------------------------------------------------------------------

def setup_database(url: str, people: int, sessions: int) -> tuple[list[str], list[dict]]:
    """Migrate; add the teachers and ``sessions`` published sessions of their branch,
    each with an Attendance row per teacher. Returns the accounts and, per session, its
    id and secret (what the screen's tokens are derived from)."""
    import secrets

    from studyhall.model_helpers import utcnow
    from studyhall.org import operations as org_ops
    from studyhall.org.models import Person, PoliticalStatus, Role, UnitKind
    from studyhall.sessions.models import (
        Attendance,
        SessionKind,
        SessionStatus,
        StudySession,
    )

    app = create_app(loadapp.load_config(url))
    with app.app_context():
        with contextlib.redirect_stderr(io.StringIO()):
            flask_migrate.upgrade()
        loadapp.bench_insert.create(db.engine)
        top = org_ops.create_unit(None, "压测党委", UnitKind.COMMITTEE)
        branch = org_ops.create_unit(top, "压测支部", UnitKind.BRANCH)
        probe = Person()
        probe.set_password(PASSWORD, initial=True)
        accounts = [f"teacher{i:05d}" for i in range(people)]
        db.session.execute(sa.insert(Person), [
            {"account": account, "name": f"教师{i}", "unit_id": branch.id,
             "political_status": PoliticalStatus.CPC_MEMBER, "role": Role.TEACHER,
             "password_hash": probe.password_hash, "must_change_password": False,
             "session_version": 1}
            for i, account in enumerate(accounts)])
        now = utcnow()
        found = []
        for number in range(sessions):
            session = StudySession(
                kind=SessionKind.BRANCH_MEETING, owner_unit_id=branch.id,
                topic=f"压测学习会 {number + 1}", starts_at=now + timedelta(minutes=2),
                ends_at=now + timedelta(hours=2), checkin_secret=secrets.token_hex(32),
                status=SessionStatus.PUBLISHED, published_at=now,
                audience={"unit_ids": [branch.id]})
            db.session.add(session)
            db.session.flush()
            db.session.execute(sa.insert(Attendance).from_select(
                ["session_id", "person_id", "unit_id", "political_status"],
                sa.select(sa.literal(session.id), Person.id, Person.unit_id,
                          Person.political_status).where(Person.unit_id == branch.id)))
            found.append({"id": session.id, "checkin_secret": session.checkin_secret})
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return accounts, found


def verify(url: str, session_id: int, people: int, before: dict | None = None,
           refused: int = 0) -> dict:
    """Each person checked in once: N rows with a status, a time, a method and a device
    (N - ``refused`` when scans were refused: those are reported as false refusals);
    as many distinct devices (each client is its own phone). With ``before`` (the rows
    as they stood), nothing changed since. Returns the rows as they stand."""
    from studyhall.sessions.models import Attendance

    app = create_app(loadapp.load_config(url))
    with app.app_context():
        rows = {row.person_id: (row.status, row.checked_in_at, row.method, row.device_hash)
                for row in db.session.scalars(
                    sa.select(Attendance).where(Attendance.session_id == session_id))}
        db.session.remove()
        db.engine.dispose()
    problems = []
    done = [r for r in rows.values() if r[0] is not None and r[1] is not None and r[2]]
    if len(rows) != people or len(done) != people - refused:
        problems.append(f"{len(done)} of {len(rows)} rows checked in, expected "
                        f"{people - refused}")
    devices = {r[3] for r in rows.values() if r[3]}
    if len(devices) != people - refused:
        problems.append(f"{len(devices)} distinct devices, expected {people - refused}")
    if before is not None and rows != before:
        changed = sum(1 for key, value in rows.items() if before.get(key) != value)
        problems.append(f"{changed} rows changed by the second scan")
    if problems:
        print("\n".join(["unexpected answers, the first few:", *load.UNEXPECTED]), flush=True)
        raise SystemExit("bench_checkin: check failed: " + "; ".join(problems))
    return rows


# --- the clients ------------------------------------------------------------------------

def token_now(session: dict, age: float = 0.0) -> str:
    """The token the screen shows ``age`` seconds ago, by the server's clock (same box)."""
    from studyhall.model_helpers import utcnow
    from studyhall.sessions import checkin

    shown = SimpleNamespace(**session)
    return checkin.token_for(shown, checkin.step_of(utcnow() - timedelta(seconds=age)))


def code_now(session: dict, age: float = 0.0) -> str:
    from studyhall.model_helpers import utcnow
    from studyhall.sessions import checkin

    shown = SimpleNamespace(**session)
    return checkin.code_for(shown, checkin.step_of(utcnow() - timedelta(seconds=age)))


def result_is(outcome: str):
    def check(status, body, _location) -> bool:
        found = OUTCOME.search(body)
        return status == 200 and found is not None and found.group(1) == outcome
    return check


async def log_in(client, account: str) -> None:
    scratch: list = []
    status, body, _ = await load.timed_request(client, "GET", "/login", scratch)
    token = load.CSRF_INPUT.search(body)
    if status != 200 or token is None:
        raise SystemExit(f"GET /login: {status}")
    status, body, _ = await load.timed_request(
        client, "POST", "/login", scratch, expect=load.redirect_to("^/$"),
        data={"account": account, "password": PASSWORD, "csrf_token": token.group(1)})
    if status != 302:
        raise SystemExit(f"POST /login for {account}: {status} {body[:300]}")


async def scan(client, session: dict, token: str, samples: dict, outcome: str) -> bool:
    """One scan and its result page; True when the page says ``outcome``."""
    sid = session["id"]
    status, _, location = await load.timed_request(
        client, "GET", f"/checkin/{sid}/{token}", samples["scan"],
        expect=load.redirect_to(rf"/checkin/{sid}/done(\?new=1)?$"))
    if status != 302:
        return False
    check = result_is(outcome)
    status, body, location = await load.timed_request(client, "GET", location,
                                                      samples["page"], expect=check)
    return check(status, body, location)


async def type_code(client, session: dict, code: str, csrf: str, samples: dict) -> bool:
    sid = session["id"]
    status, _, location = await load.timed_request(
        client, "POST", "/checkin", samples["scan"],
        expect=load.redirect_to(rf"/checkin/{sid}/done\?new=1$"),
        data={"code": code, "csrf_token": csrf})
    if status != 302:
        return False
    check = result_is("checked_in")
    status, body, location = await load.timed_request(client, "GET", location,
                                                      samples["page"], expect=check)
    return check(status, body, location)


async def burst(clients: list, session: dict, outcome: str
                ) -> tuple[dict, float, float, list[bool]]:
    """All clients scan at one instant. Returns the samples, the span from the release
    to the last scan answered and to the last result page, and per client whether its
    result page said ``outcome`` (a refusal of a fresh token is a false refusal)."""
    samples = {"scan": [], "page": []}
    go = asyncio.Event()
    ready = 0
    token = {}

    async def one(client) -> bool:
        nonlocal ready
        ready += 1
        await go.wait()
        return await scan(client, session, token["value"], samples, outcome)

    tasks = [asyncio.create_task(one(c)) for c in clients]
    while ready < len(clients):
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)
    token["value"] = token_now(session)
    released = time.perf_counter()
    go.set()
    oks = await asyncio.wait_for(asyncio.gather(*tasks), load.PHASE_TIMEOUT)
    last_scan = max(s.end for s in samples["scan"]) - released
    last_page = max((s.end for s in samples["page"]), default=released) - released
    return samples, last_scan, last_page, list(oks)


async def paced(clients: list, session: dict, rng: random.Random) -> tuple[dict, int]:
    """The hall: each client scans (or types the code) at a random moment over
    PACED_SECONDS with what the screen shows then. Returns the samples and the number of
    false refusals (every scan here should succeed)."""
    samples = {"scan": [], "page": []}
    typers = set(range(0, len(clients), CODE_SHARE))
    forms = {}
    # Those who type open the code page first (not timed): the form and its CSRF token.
    for index in typers:
        scratch: list = []
        _status, body, _ = await load.timed_request(clients[index], "GET", "/checkin", scratch)
        forms[index] = load.CSRF_INPUT.search(body).group(1)
    refused = 0

    async def one(index: int, client) -> None:
        nonlocal refused
        await asyncio.sleep(rng.uniform(0, PACED_SECONDS))
        lag = rng.uniform(*SCREEN_LAG)
        read = (code_now if index in typers else token_now)(session, lag)
        await asyncio.sleep(rng.uniform(*PHONE_DELAY))
        if index in typers:
            ok = await type_code(client, session, read, forms[index], samples)
        else:
            ok = await scan(client, session, read, samples, "checked_in")
        refused += not ok

    await asyncio.wait_for(asyncio.gather(*(one(i, c) for i, c in enumerate(clients))),
                           load.PHASE_TIMEOUT)
    return samples, refused


async def ceiling(base: str, clients: int) -> tuple[list, float]:
    """``clients`` cookie-less clients send one bare INSERT each at one instant."""
    samples: list = []
    sessions = [load.new_session(base) for _ in range(clients)]
    go = asyncio.Event()

    async def one(client) -> None:
        await go.wait()
        await load.timed_request(client, "POST", "/bench/insert", samples)

    try:
        tasks = [asyncio.create_task(one(s)) for s in sessions]
        await asyncio.sleep(0.2)
        released = time.perf_counter()
        go.set()
        await asyncio.wait_for(asyncio.gather(*tasks), load.PHASE_TIMEOUT)
    finally:
        await asyncio.gather(*(s.close() for s in sessions))
    return samples, max(s.end for s in samples) - released


# --- one database -----------------------------------------------------------------------

async def load_session(base: str, url: str, accounts: list[str], sessions: list[dict],
                       options) -> dict:
    clients = [load.new_session(base) for _ in accounts]
    try:
        began = time.perf_counter()
        limiter = asyncio.Semaphore(50)

        async def one(client, account) -> None:
            async with limiter:
                await log_in(client, account)

        await asyncio.wait_for(asyncio.gather(*(one(c, a) for c, a in zip(
            clients, accounts, strict=True))), load.PHASE_TIMEOUT)
        print(f"    logged in {len(clients)} teachers in {time.perf_counter() - began:.1f} s",
              flush=True)
        # Warm-up, not reported: a fifth of the hall checks in to the first session.
        warm = sessions[0]
        await burst(clients[:len(clients) // 5], warm, "checked_in")
        await ceiling(base, len(clients) // 5)
        runs = []
        for run in range(options.runs):
            burst_session, paced_session = sessions[1 + 2 * run], sessions[2 + 2 * run]
            first, scan_span, page_span, oks = await burst(clients, burst_session,
                                                           "checked_in")
            first_refused = oks.count(False)
            rows = await asyncio.to_thread(verify, url, burst_session["id"], len(clients),
                                           None, first_refused)
            # Again, those who checked in: each is told so, and nothing changes.
            checked = [c for c, ok in zip(clients, oks, strict=True) if ok]
            again, again_span, _page_span, again_oks = await burst(checked, burst_session,
                                                                   "already")
            await asyncio.to_thread(verify, url, burst_session["id"], len(clients), rows,
                                    first_refused)
            bare, bare_span = await ceiling(base, len(clients))
            hall, refused = await paced(clients, paced_session, random.Random(run))
            await asyncio.to_thread(verify, url, paced_session["id"], len(clients), None,
                                    refused)
            figures = {
                "burst scans answered s": scan_span, "burst pages answered s": page_span,
                "again answered s": again_span, "ceiling answered s": bare_span,
                "burst": load.summarise(first["scan"]),
                "burst page": load.summarise(first["page"]),
                "again": load.summarise(again["scan"]),
                "ceiling": load.summarise(bare),
                "paced": load.summarise(hall["scan"]),
                "paced page": load.summarise(hall["page"]),
                "false refusals": refused, "burst refusals": first_refused,
                "again refusals": again_oks.count(False),
            }
            runs.append(figures)
            errors = sum(figures[k]["errors"] for k in ("burst", "burst page", "again",
                                                         "ceiling", "paced", "paced page"))
            print(f"    run {run + 1}: {len(clients)} scans answered in {scan_span:.2f} s "
                  f"(with result pages {page_span:.2f} s; p99 "
                  f"{figures['burst']['p99']:.0f} ms), again {again_span:.2f} s, bare "
                  f"INSERT {bare_span:.2f} s (p99 {figures['ceiling']['p99']:.0f} ms); "
                  f"paced p99 {figures['paced']['p99']:.0f} ms; errors {errors}, false "
                  f"refusals: burst {first_refused}, again {again_oks.count(False)}, paced "
                  f"{refused}", flush=True)
            for name, batch in (("burst", first), ("again", again), ("paced", hall)):
                for step, step_samples in batch.items():
                    if load.error_statuses(step_samples):
                        print(f"      {name} {step} errors: "
                              f"{load.error_statuses(step_samples)}", flush=True)
    finally:
        await asyncio.gather(*(c.close() for c in clients))
    return runs


def measure(database: str, url: str, options, tmp: Path) -> list[dict]:
    began = time.perf_counter()
    accounts, sessions = setup_database(url, options.people, 1 + 2 * options.runs)
    print(f"  {database}, gunicorn -w {options.workers} -k sync: set up {len(accounts)} "
          f"teachers and {len(sessions)} sessions in {time.perf_counter() - began:.1f} s",
          flush=True)
    log = tmp / f"gunicorn-{database}.log"
    try:
        with load.gunicorn(url, "sync", options.workers, 1, log) as base:
            return asyncio.run(load_session(base, url, accounts, sessions, options))
    finally:
        tracebacks = log.read_text(errors="replace").count("Traceback") if log.exists() else 0
        if tracebacks:
            print(f"    gunicorn log: {tracebacks} tracebacks; last lines:\n"
                  + "\n".join(log.read_text(errors="replace").splitlines()[-40:]), flush=True)


def report(label: str, runs: list[dict], options) -> dict:
    def med(key):
        return statistics.median(run[key] for run in runs)

    def span_cell(key):
        values = [run[key] for run in runs]
        return f"{statistics.median(values):.2f} ({', '.join(f'{v:.2f}' for v in values)})"

    rows = []
    for name, span in (("burst: scan → redirect", "burst scans answered s"),
                       ("burst: result page", "burst pages answered s"),
                       ("again: scan → 已签到过", "again answered s"),
                       ("ceiling: bare INSERT", "ceiling answered s"),
                       ("paced hall over 10 s", None), ("paced: result page", None)):
        key = {"burst: scan → redirect": "burst", "burst: result page": "burst page",
               "again: scan → 已签到过": "again", "ceiling: bare INSERT": "ceiling",
               "paced hall over 10 s": "paced", "paced: result page": "paced page"}[name]
        summary = load.median_summary([run[key] for run in runs])
        rows.append([name, summary["count"], summary["errors"],
                     span_cell(span) if span else "", f"{summary['p50']:.0f}",
                     f"{summary['p99']:.0f}", f"{summary['max']:.0f}"])
    print(f"\n{label}: {options.people} people, median of {options.runs} runs (count and "
          f"errors summed, max the highest); ms")
    harness.print_table(["step", "count", "errors", "all answered s (runs)", "p50", "p99",
                         "max"], rows)
    refused = sum(run["false refusals"] for run in runs)
    in_bursts = sum(run["burst refusals"] + run["again refusals"] for run in runs)
    ratio = med("burst scans answered s") / med("ceiling answered s")
    print(f"burst / bare INSERT burst: {ratio:.1f}×; false refusals in "
          f"{options.people * options.runs} paced scans: {refused}; in the bursts (a token "
          f"outlived by the queue): {in_bursts}", flush=True)
    return {"burst s": med("burst scans answered s"),
            "burst with pages s": med("burst pages answered s"),
            "ceiling s": med("ceiling answered s"), "false refusals": refused,
            "burst refusals": in_bursts,
            "burst p99 ms": load.median_summary([r["burst"] for r in runs])["p99"],
            "paced p99 ms": load.median_summary([r["paced"] for r in runs])["p99"]}


def profile(options, tmp: Path) -> dict[str, float]:
    """CPU milliseconds per request in one process (test client, no gunicorn)."""
    import cProfile
    import pstats

    database = "sqlite" if options.db == "both" else options.db
    url = harness.database_urls(tmp)[database]()
    accounts, (session,) = setup_database(url, options.people, 1)
    app = loadapp.create(url)
    clients = []
    for account in accounts:
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = load.CSRF_INPUT.search(page).group(1)
        assert client.post("/login", data={"account": account, "password": PASSWORD,
                                           "csrf_token": token}).status_code == 302
        clients.append(client)

    def each(method: str, path: str, status: int, profiler=None) -> float:
        start = time.process_time()
        if profiler:
            profiler.enable()
        for client in clients:
            reply = client.open(path() if callable(path) else path, method=method)
            assert reply.status_code == status, (path, reply.status_code)
        if profiler:
            profiler.disable()
        return (time.process_time() - start) / len(clients) * 1000

    sid = session["id"]
    figures = {"scan (first)": each(
        "GET", lambda: f"/checkin/{sid}/{token_now(session)}", 302)}
    figures["result page"] = each("GET", f"/checkin/{sid}/done", 200)
    figures["scan (again)"] = each("GET", lambda: f"/checkin/{sid}/{token_now(session)}",
                                   302)
    figures["bare INSERT"] = each("POST", "/bench/insert", 200)
    figures["ping"] = each("GET", "/bench/ping", 200)
    profiler = cProfile.Profile()  # one more pass, profiled (its time is not reported)
    each("GET", lambda: f"/checkin/{sid}/{token_now(session)}", 302, profiler)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    base = figures["bare INSERT"]
    harness.print_table(["request", "CPU ms", "× bare INSERT"],
                        [[name, f"{ms:.2f}", f"{ms / base:.1f}×"]
                         for name, ms in figures.items()])
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    return figures


def main(argv: list[str] | None = None) -> dict[str, float]:
    options = parse_options(argv or [])
    if options.profile:
        with tempfile.TemporaryDirectory(prefix="bench-checkin-") as tmp:
            return profile(options, Path(tmp))
    with tempfile.TemporaryDirectory(prefix="bench-checkin-") as tmp:
        tmp_path = Path(tmp)
        urls = harness.database_urls(tmp_path)
        wanted = ["sqlite", "postgresql"] if options.db == "both" else [options.db]
        if "postgresql" in wanted and "postgresql" not in urls:
            print("BENCH_DATABASE_URL is not set: PostgreSQL skipped")
        print(f"check-in: {options.people} people, {options.workers} gunicorn sync workers, "
              f"{options.runs} runs; client: asyncio + aiohttp in this process", flush=True)
        results: dict[str, float] = {}
        for database in [d for d in wanted if d in urls]:
            runs = measure(database, urls[database](), options, tmp_path)
            figures = report(f"{database}, gunicorn -w {options.workers} -k sync", runs,
                             options)
            results.update({f"{database}: {k}": v for k, v in figures.items()})
        return results


if __name__ == "__main__":
    main(sys.argv[1:])
