"""Reading heartbeats: a county reading the same material on one evening.

Against gunicorn (several workers) on SQLite and, when BENCH_DATABASE_URL is set, on
PostgreSQL, served as bench_quiz_load.py serves it (bench/loadapp.py: the app with CSRF
on, plus its bare routes). Beside it, in the same run and on the same server: the bare
INSERT endpoint (the ceiling) hammered by the same clients for as many requests, and a
bare GET /bench/ping. Aim (PERFORMANCE.md): the heartbeat at ≥ 60% of the bare INSERT's
throughput (floor 50%), p99 < 100 ms, no non-2xx.

Per database and gunicorn worker class:

- setup, in-process: a fresh migrated database; N readers in one branch (cheap initial
  hash of a known password, no forced change); one text material; one published
  assignment giving it to the branch;
- phase 0, not timed: each reader logs in and opens the reading page (which creates
  their ReadingProgress), and keeps the page's csrf meta tag and tab token;
- per run: all N readers send BEATS heartbeats each, back to back (POST
  /study/assignments/<a>/materials/<m>/beat, JSON {"token", "active": true},
  X-CSRFToken), released together; then the ceiling: the same N clients each send BEATS
  POST /bench/insert; then as many GET /bench/ping;
- one more run with the beats paced at one per 2 s per reader (jittered), so latency
  under moderate load shows (a real page beats every 15 s: 1,000 readers are ~67 beats/s);
- after each run, in the database: each reader's progress counts exactly the beats
  acknowledged to them (``beats``, checked per reader), and no reader is credited more
  than the wall-clock time between opening and their last beat.

Figures are medians over RUNS runs (3) of each step's throughput and percentiles; errors
are summed. The load client is one asyncio process with aiohttp on the same 2 cores as
the server, so it takes CPU from it: compare the ratio to the ceiling, not req/s.

    .venv/bin/python bench/run_all.py heartbeat
    .venv/bin/python bench/bench_heartbeat.py --readers 200 --beats 20 --workers 4 \
        --worker-class both --db both

Under run_all.py the options come from the environment: BENCH_BEAT_READERS,
BENCH_BEAT_BEATS, BENCH_BEAT_WORKERS, BENCH_BEAT_THREADS, BENCH_BEAT_WORKER_CLASS (sync |
gthread | both), BENCH_BEAT_DB (sqlite | postgresql | both), BENCH_BEAT_RUNS,
BENCH_BEAT_PACED (0 to skip the paced run). Needs aiohttp (bench extra).
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
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import bench_quiz_load as load
import flask_migrate
import harness
import loadapp
import sqlalchemy as sa

from studyhall import create_app
from studyhall.extensions import db

PASSWORD = "bench-reader-2024"
STEPS = ("beat", "ceiling INSERT", "ping")
TOKEN = re.compile(r'data-token="([A-Za-z0-9_-]+)"')
WARM_UP_READERS = 40


def parse_options(argv: list[str]) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readers", type=int, default=int(env("BENCH_BEAT_READERS", 200)))
    parser.add_argument("--beats", type=int, default=int(env("BENCH_BEAT_BEATS", 20)))
    parser.add_argument("--workers", type=int, default=int(env("BENCH_BEAT_WORKERS", 4)))
    parser.add_argument("--threads", type=int, default=int(env("BENCH_BEAT_THREADS", 4)),
                        help="threads per gthread worker")
    parser.add_argument("--worker-class", default=env("BENCH_BEAT_WORKER_CLASS", "both"),
                        choices=("sync", "gthread", "both"))
    parser.add_argument("--db", default=env("BENCH_BEAT_DB", "both"),
                        choices=("sqlite", "postgresql", "both"))
    parser.add_argument("--runs", type=int, default=int(env("BENCH_BEAT_RUNS", harness.REPEAT)))
    parser.add_argument("--paced", type=int, default=int(env("BENCH_BEAT_PACED", 1)),
                        help="1: one more run with beats paced at 1 per 2 s; 0: skip it")
    return parser.parse_args(argv)


# --- setup, in-process ------------------------------------------------------------------

def setup_database(url: str, readers: int) -> tuple[list[str], int, int]:
    """Migrate, then add the readers, a material and an assignment giving it to them.
    Returns the accounts, the assignment's id and the material's id."""
    from studyhall.model_helpers import utcnow
    from studyhall.org import operations as org_ops
    from studyhall.org.models import Person, PoliticalStatus, Role, UnitKind
    from studyhall.study.materials import BLOCK_SEP
    from studyhall.study.models import (
        Assignment,
        AssignmentItem,
        AssignmentRecipient,
        AssignmentStatus,
        Material,
        MaterialKind,
        MaterialVersion,
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
        accounts = [f"reader{i:05d}" for i in range(readers)]
        db.session.execute(sa.insert(Person), [
            {"account": account, "name": f"读者{i}", "unit_id": branch.id,
             "political_status": PoliticalStatus.CPC_MEMBER, "role": Role.TEACHER,
             "password_hash": probe.password_hash, "must_change_password": False,
             "session_version": 1}
            for i, account in enumerate(accounts)])
        material = Material(kind=MaterialKind.TEXT, owner_unit_id=top.id)
        db.session.add(material)
        db.session.flush()
        paragraphs = BLOCK_SEP.join(f"<p>第{n}段：党员必须遵守党的纪律，严格执行党的决定。</p>"
                                    for n in range(1, 41))
        version = MaterialVersion(material_id=material.id, number=1, title="压测学习资料",
                                  body_html=paragraphs, min_reading_seconds=600)
        db.session.add(version)
        db.session.flush()
        material.current_version_id = version.id
        now = utcnow()
        assignment = Assignment(title="压测学习任务", owner_unit_id=top.id,
                                starts_at=now - timedelta(hours=1),
                                due_at=now + timedelta(days=7),
                                status=AssignmentStatus.PUBLISHED, published_at=now)
        db.session.add(assignment)
        db.session.flush()
        db.session.add(AssignmentItem(assignment_id=assignment.id, position=1,
                                      material_id=material.id))
        db.session.execute(sa.insert(AssignmentRecipient).from_select(
            ["assignment_id", "person_id", "unit_id", "political_status"],
            sa.select(sa.literal(assignment.id), Person.id, Person.unit_id,
                      Person.political_status).where(Person.unit_id == branch.id)))
        db.session.commit()
        ids = assignment.id, material.id
        db.session.remove()
        db.engine.dispose()
    return accounts, *ids


def verify(url: str, assignment_id: int, expected: dict[str, int]) -> dict[str, int]:
    """Each reader's ``beats`` equals the beats acknowledged to them so far, and no one is
    credited more than the wall-clock time from opening to their last beat."""
    from studyhall.org.models import Person
    from studyhall.study.models import ReadingProgress

    app = create_app(loadapp.load_config(url))
    with app.app_context():
        rows = db.session.execute(
            sa.select(Person.account, ReadingProgress.beats, ReadingProgress.credited_ms,
                      ReadingProgress.opened_ms, ReadingProgress.last_beat_ms)
            .join(Person, Person.id == ReadingProgress.person_id)
            .where(ReadingProgress.assignment_id == assignment_id)).all()
        db.session.remove()
        db.engine.dispose()
    found = {row.account: row for row in rows}
    problems = []
    wrong = [a for a, n in expected.items() if a not in found or found[a].beats != n]
    if wrong:
        sample = [(a, found[a].beats if a in found else None, expected[a]) for a in wrong[:3]]
        problems.append(f"{len(wrong)} readers whose beats differ from those acknowledged, "
                        f"e.g. {sample}")
    over = [row.account for row in rows if row.credited_ms > row.last_beat_ms - row.opened_ms]
    if over:
        problems.append(f"{len(over)} readers credited beyond wall-clock time: {over[:3]}")
    if problems:
        print("\n".join(["unexpected answers, the first few:", *load.UNEXPECTED]), flush=True)
        raise SystemExit("bench_heartbeat: check failed: " + "; ".join(problems))
    return {"readers": len(expected), "beats checked": sum(expected.values()),
            "credited s (median)": int(statistics.median(r.credited_ms for r in rows) / 1000)}


# --- the load client --------------------------------------------------------------------

@dataclass
class Reader:
    account: str
    session: object
    csrf: str = ""
    token: str = ""


def beat_ok(status: int, body: str, _location: str) -> bool:
    return status == 200 and '"held":true' in body.replace(" ", "")


async def set_up_request(reader: Reader, method: str, url: str, **kwargs):
    """A set-up request (not timed). On a loaded box SQLite's busy timeout can run out
    when 50 readers log in or open the page at once (503 with Retry-After): try again."""
    for _attempt in range(5):
        status, body, location = await load.timed_request(reader.session, method, url, [],
                                                          **kwargs)
        if status != 503:
            break
        await asyncio.sleep(1.0)
    return status, body, location


async def open_page(reader: Reader, page: str) -> None:
    status, body, _ = await set_up_request(reader, "GET", "/login")
    token = load.CSRF_INPUT.search(body)
    if status != 200 or token is None:
        raise SystemExit(f"GET /login: {status}")
    status, body, _ = await set_up_request(
        reader, "POST", "/login",
        data={"account": reader.account, "password": PASSWORD, "csrf_token": token.group(1)})
    if status != 302:
        raise SystemExit(f"POST /login for {reader.account}: {status} {body[:300]}")
    # The first open writes the reader's progress.
    status, body, _ = await set_up_request(reader, "GET", page)
    meta, tab = load.CSRF_META.search(body), TOKEN.search(body)
    if status != 200 or meta is None or tab is None:
        raise SystemExit(f"GET {page} for {reader.account}: {status} {body[:300]}")
    reader.csrf, reader.token = meta.group(1), tab.group(1)


async def run_beats(readers: list[Reader], url: str, beats: int, paced: bool, seed: int,
                    acked: dict[str, int]) -> list:
    samples: list = []
    rng = random.Random(seed)
    go = asyncio.Event()

    async def one(reader: Reader) -> None:
        await go.wait()
        if paced:
            await asyncio.sleep(rng.uniform(0, 2.0))
        for _ in range(beats):
            status, _body, _ = await load.timed_request(
                reader.session, "POST", url, samples, expect=beat_ok,
                json={"token": reader.token, "active": True},
                headers={"X-CSRFToken": reader.csrf})
            if status == 200:
                acked[reader.account] += 1
            if paced:
                await asyncio.sleep(rng.uniform(1.5, 2.5))

    tasks = [asyncio.create_task(one(r)) for r in readers]
    await asyncio.sleep(0.2)
    go.set()
    await asyncio.wait_for(asyncio.gather(*tasks), load.PHASE_TIMEOUT)
    return samples


async def load_session(base: str, accounts: list[str], assignment_id: int, material_id: int,
                       options) -> dict:
    page = f"/study/assignments/{assignment_id}/materials/{material_id}"
    url = page + "/beat"
    readers = [Reader(account, load.new_session(base)) for account in accounts]
    acked = dict.fromkeys(accounts, 0)
    try:
        began = time.perf_counter()
        limiter = asyncio.Semaphore(50)

        async def one(reader: Reader) -> None:
            async with limiter:
                await open_page(reader, page)

        await asyncio.wait_for(asyncio.gather(*(one(r) for r in readers)), load.PHASE_TIMEOUT)
        print(f"    {len(readers)} readers logged in and opened the page in "
              f"{time.perf_counter() - began:.1f} s", flush=True)
        # Warm-up, not reported: every worker loads its code and connections.
        warm = await run_beats(readers[:WARM_UP_READERS], url, options.beats, False, 99, acked)
        if load.error_statuses(warm):
            print(f"      warm-up errors: {load.error_statuses(warm)}", flush=True)
        await load.run_bare(base, WARM_UP_READERS, options.beats, "POST", "/bench/insert")
        runs, ceilings, pings = [], [], []
        for run in range(options.runs):
            samples = await run_beats(readers, url, options.beats, False, run, acked)
            checked = await asyncio.to_thread(verify, options.url, assignment_id, acked)
            ceiling = await load.run_bare(base, len(readers), options.beats, "POST",
                                          "/bench/insert")
            ping = await load.run_bare(base, len(readers), options.beats, "GET", "/bench/ping")
            for name, got in (("beat", samples), ("ceiling", ceiling)):
                if load.error_statuses(got):
                    print(f"      {name} errors: {load.error_statuses(got)}", flush=True)
            runs.append(samples)
            ceilings.append(ceiling)
            pings.append(ping)
            s, bare = load.summarise(samples), load.summarise(ceiling)
            print(f"    run {run + 1}: beat {s['req/s']:.0f} req/s p99 {s['p99']:.0f} ms, "
                  f"ceiling {bare['req/s']:.0f} req/s p99 {bare['p99']:.0f} ms "
                  f"({s['req/s'] / bare['req/s']:.0%}); verified {checked}", flush=True)
        paced = None
        if options.paced:
            paced = await run_beats(readers, url, options.beats, True, options.runs, acked)
            checked = await asyncio.to_thread(verify, options.url, assignment_id, acked)
            s = load.summarise(paced)
            print(f"    paced run: beat {s['req/s']:.0f} req/s p50 {s['p50']:.0f} p99 "
                  f"{s['p99']:.0f} max {s['max']:.0f} ms; verified {checked}", flush=True)
    finally:
        await asyncio.gather(*(r.session.close() for r in readers))
    return {"steps": {"beat": load.median_summary([load.summarise(r) for r in runs]),
                      "ceiling INSERT": load.median_summary([load.summarise(c)
                                                             for c in ceilings]),
                      "ping": load.median_summary([load.summarise(p) for p in pings])},
            "paced": load.summarise(paced) if paced else None,
            "ratios": [load.summarise(r)["req/s"] / load.summarise(c)["req/s"]
                       for r, c in zip(runs, ceilings, strict=True)]}


def measure(database: str, url: str, worker_class: str, options, tmp: Path) -> dict:
    began = time.perf_counter()
    accounts, assignment_id, material_id = setup_database(url, options.readers)
    print(f"  {database}, {options.workers} {worker_class} workers"
          f"{f' × {options.threads} threads' if worker_class == 'gthread' else ''}: set up "
          f"{len(accounts)} readers in {time.perf_counter() - began:.1f} s", flush=True)
    options.url = url
    log = tmp / f"gunicorn-{database}-{worker_class}.log"
    try:
        with load.gunicorn(url, worker_class, options.workers, options.threads, log) as base:
            figures = asyncio.run(load_session(base, accounts, assignment_id, material_id,
                                               options))
    finally:
        tracebacks = log.read_text(errors="replace").count("Traceback") if log.exists() else 0
        if tracebacks:
            print(f"    gunicorn log: {tracebacks} tracebacks; last lines:\n"
                  + "\n".join(log.read_text(errors="replace").splitlines()[-40:]), flush=True)
    figures["seconds"] = time.perf_counter() - began
    return figures


def in_process(url: str, batches: int = 10, size: int = 100) -> dict[str, float]:
    """The cost of one heartbeat against one bare INSERT in one process (Flask's test
    client, no gunicorn, no network), in alternating batches so that the load other
    sessions put on the box falls on both alike: a steadier ratio than req/s."""
    import loadapp as served

    accounts, assignment_id, material_id = setup_database(url, 1)
    app = served.create(url)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = load.CSRF_INPUT.search(page).group(1)
    client.post("/login", data={"account": accounts[0], "password": PASSWORD,
                                "csrf_token": token})
    page = f"/study/assignments/{assignment_id}/materials/{material_id}"
    body = client.get(page).get_data(as_text=True)
    csrf, tab = load.CSRF_META.search(body).group(1), TOKEN.search(body).group(1)
    bare = app.test_client()

    def beats(n: int) -> None:
        for _ in range(n):
            reply = client.post(page + "/beat", json={"token": tab, "active": True},
                                headers={"X-CSRFToken": csrf})
            assert reply.status_code == 200, reply.get_data(as_text=True)

    def inserts(n: int) -> None:
        for _ in range(n):
            assert bare.post("/bench/insert").status_code == 200

    beats(size), inserts(size)  # warm up
    spent = {"beat": 0.0, "insert": 0.0}
    for _ in range(batches):
        for name, fn in (("beat", beats), ("insert", inserts)):
            began = time.perf_counter()
            fn(size)
            spent[name] += time.perf_counter() - began
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    n = batches * size
    return {"beat ms": spent["beat"] / n * 1000, "insert ms": spent["insert"] / n * 1000}


def report(label: str, figures: dict, options) -> None:
    steps = figures["steps"]
    ceiling = steps["ceiling INSERT"]["req/s"]
    rows = []
    for step in STEPS:
        s = steps[step]
        rows.append([step, s["count"], s["errors"], f"{s['req/s']:.0f}", f"{s['p50']:.1f}",
                     f"{s['p95']:.1f}", f"{s['p99']:.1f}", f"{s['max']:.1f}",
                     f"{s['req/s'] / ceiling:.0%} of INSERT" if step == "beat" else ""])
    if figures["paced"]:
        s = figures["paced"]
        rows.append(["beat, paced 1/2 s", s["count"], s["errors"], f"{s['req/s']:.0f}",
                     f"{s['p50']:.1f}", f"{s['p95']:.1f}", f"{s['p99']:.1f}",
                     f"{s['max']:.1f}", ""])
    print(f"\n{label}: median of {options.runs} runs (count and errors summed, max the "
          f"highest); ms")
    harness.print_table(["step", "count", "non-2xx", "req/s", "p50", "p95", "p99", "max",
                         "ratio"], rows)
    print(f"beat / ceiling per run: {', '.join(f'{r:.0%}' for r in figures['ratios'])}; "
          f"{figures['seconds']:.0f} s in all", flush=True)


def main(argv: list[str] | None = None) -> dict[str, float]:
    options = parse_options(argv or [])
    with tempfile.TemporaryDirectory(prefix="bench-heartbeat-") as tmp:
        tmp_path = Path(tmp)
        urls = harness.database_urls(tmp_path)
        wanted = ["sqlite", "postgresql"] if options.db == "both" else [options.db]
        if "postgresql" in wanted and "postgresql" not in urls:
            print("BENCH_DATABASE_URL is not set: PostgreSQL skipped")
        classes = ["sync", "gthread"] if options.worker_class == "both" else [
            options.worker_class]
        print(f"heartbeat: {options.readers} readers × {options.beats} beats, "
              f"{options.workers} gunicorn workers, {options.runs} runs + "
              f"{'1 paced' if options.paced else 'no paced'} run; client: asyncio + aiohttp "
              f"in this process", flush=True)
        results: dict[str, float] = {}
        for database in [d for d in wanted if d in urls]:
            one = in_process(urls[database]())
            print(f"\n{database}, one process (test client, 10 alternating batches of 100): "
                  f"heartbeat {one['beat ms']:.2f} ms, bare INSERT {one['insert ms']:.2f} ms "
                  f"each: the beat at {one['insert ms'] / one['beat ms']:.0%} of the INSERT's "
                  f"rate", flush=True)
            results[f"{database} in-process beat / INSERT"] = one["insert ms"] / one["beat ms"]
            for worker_class in classes:
                figures = measure(database, urls[database](), worker_class, options, tmp_path)
                label = f"{database}, gunicorn -w {options.workers} -k {worker_class}" + (
                    f" --threads {options.threads}" if worker_class == "gthread" else "")
                report(label, figures, options)
                for step, s in figures["steps"].items():
                    for key in ("req/s", "p99", "max", "errors"):
                        results[f"{database} {worker_class}: {step} {key}"] = s[key]
        return results


if __name__ == "__main__":
    main(sys.argv[1:])
