"""Where the paper page's time goes (GET /attempts/<id>), and a start's and a submit's:
one process, Flask's test client, no gunicorn.

Sets up the quiz-load database (bench_quiz_load.setup_database), logs takers in, starts
the exam, then times N paper pages (as the load client asks for them: Accept-Encoding
gzip, deflate, br; and without compression) against N pings on the same app, counts the
SQL statements of one page, one start and one submit, times the template's render alone,
and prints cProfile's top functions for the pages.

    .venv/bin/python bench/profile_quiz_paper.py [--n 500] [--db sqlite|postgresql]
        [--sort cumulative|tottime] [--top 40] [--starts 200] [--answered 20]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import bench_quiz_load as load
import harness
import loadapp
from sqlalchemy import event

#: What aiohttp (the load client) sends when brotli is installed, as it is here.
CLIENT_ENCODINGS = "gzip, deflate, br"
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class StatementCounter:
    def __init__(self, engine):
        self.statements: list[str] = []
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement, *_args):
        self.statements.append(statement)

    def take(self) -> list[str]:
        taken, self.statements = self.statements, []
        return taken


class LockTimer:
    """How long each write transaction holds SQLite's write lock: from its BEGIN
    IMMEDIATE to the end of its COMMIT or ROLLBACK. Under a burst of starts or submits
    the writers queue for that lock, so this time (× the burst) bounds the burst."""

    def __init__(self, engine):
        from sqlalchemy.orm import Session

        self.held: list[float] = []
        self.cpu: list[float] = []
        self._began: tuple[float, float] | None = None
        event.listen(engine, "before_cursor_execute", self._seen)
        event.listen(Session, "after_commit", self._ended)
        event.listen(Session, "after_rollback", self._ended)

    def _seen(self, _conn, _cursor, statement, *_args):
        if statement.startswith("BEGIN IMMEDIATE"):
            self._began = (time.perf_counter(), time.process_time())

    def _ended(self, _session):
        if self._began is not None:
            self.held.append(time.perf_counter() - self._began[0])
            self.cpu.append(time.process_time() - self._began[1])
            self._began = None

    def take(self) -> list[float]:
        taken, self.held, self.cpu = self.held, [], []
        return taken

    def summary(self) -> str:
        """The median wall time the lock was held and the CPU time of this process in it
        (on a loaded box the wall time includes waiting for a core; the CPU time not)."""
        cpu = self.cpu
        held = self.take()
        if not held:
            return "no write lock taken"
        return (f"write lock held {statistics.median(held) * 1000:.2f} ms "
                f"({statistics.median(cpu) * 1000:.2f} ms CPU; median of {len(held)})")


def logged_in_client(app, account: str, quiz_id: int):
    client = app.test_client()
    token = CSRF_INPUT.search(client.get("/login").get_data(as_text=True)).group(1)
    reply = client.post("/login", data={"account": account, "password": load.PASSWORD,
                                        "csrf_token": token})
    assert reply.status_code == 302, reply.status_code
    page = client.get(f"/quizzes/{quiz_id}").get_data(as_text=True)
    return client, CSRF_INPUT.search(page).group(1)


def timed(label: str, n: int, fn) -> float:
    """Seconds of this process's CPU per call: on a box shared with other work, the wall
    clock would count the time spent waiting for a core."""
    began = time.process_time()
    for _ in range(n):
        fn()
    seconds = (time.process_time() - began) / n
    print(f"{label:34} {1 / seconds:7.0f} /CPU s  {seconds * 1000:6.2f} ms CPU each")
    return seconds


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--db", default="sqlite", choices=("sqlite", "postgresql"))
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--starts", type=int, default=100,
                        help="takers who start (timed, statements counted) and submit")
    parser.add_argument("--answered", type=int, default=0,
                        help="answers each of those takers saves before the submits (not "
                             "timed), so the submits grade them; 0: all blank, as before")
    parser.add_argument("--dump", help="write the pages' profile to this file (pstats)")
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        url = harness.database_urls(Path(tmp))[options.db]()
        takers = max(2, options.starts + 1)
        accounts, exam_ids = load.setup_database(url, takers, 1)
        quiz_id = exam_ids[0]
        app = loadapp.create(url)
        with app.app_context():
            from studyhall.extensions import db
            counter = StatementCounter(db.engine)
        client, token = logged_in_client(app, accounts[0], quiz_id)
        reply = client.post(f"/quizzes/{quiz_id}/start", data={"csrf_token": token})
        attempt = int(re.search(r"/attempts/(\d+)", reply.headers["Location"]).group(1))
        page_url = f"/attempts/{attempt}"
        # Some answers saved, as a taker reloading mid-exam has them.
        csrf, questions = load.parse_paper(client.get(page_url).get_data(as_text=True))
        for position, kind, n in questions[:10]:
            sent, _ = load.answer_for(kind, n, random.Random(position))
            assert client.post(f"/attempts/{attempt}/answers",
                               json={"position": position, "response": sent},
                               headers={"X-CSRFToken": csrf}).status_code == 200
        compressed = {"Accept-Encoding": CLIENT_ENCODINGS}

        def page(headers=compressed):
            reply = client.get(page_url, headers=headers)
            assert reply.status_code == 200, reply.status_code
            return reply

        bare = app.test_client()

        def ping():
            assert bare.get("/bench/ping").status_code == 200

        for _ in range(30):
            page(), page({}), ping()
        body = page().get_data()
        plain = page({}).get_data()
        print(f"paper page: {len(plain):,} bytes, {len(body):,} as sent to the load client "
              f"({page().headers.get('Content-Encoding', 'identity')})")
        counter.take()
        page()
        statements = counter.take()
        print(f"SQL statements of one page: {len(statements)}")
        for statement in statements:
            print("   ", " ".join(statement.split())[:150])
        t_page = timed("paper page (client's encodings)", options.n, page)
        t_plain = timed("paper page (no compression)", options.n, lambda: page({}))
        t_ping = timed("ping", options.n, ping)
        print(f"page at {t_ping / t_page:.0%} of ping (uncompressed {t_ping / t_plain:.0%})")
        render_only(app, client, attempt, options.n)

        profiler = cProfile.Profile()
        profiler.runcall(lambda: [page() for _ in range(options.n)])
        if options.starts:
            starts_and_submits(app, counter, accounts[1:options.starts + 1], quiz_id,
                               options.dump, options.answered)
        stats = pstats.Stats(profiler)
        if options.dump:
            stats.dump_stats(options.dump)
        stats.sort_stats(options.sort).print_stats(options.top)


def render_only(app, client, attempt_id: int, n: int) -> None:
    """The template's render alone, in a request context as the view has it."""
    from flask import render_template
    from flask_login import login_user

    from studyhall.extensions import db
    from studyhall.model_helpers import utcnow
    from studyhall.quizzes.models import Attempt
    from studyhall.quizzes.paper import item_of
    from studyhall.quizzes.paper_page import cell_html, question_html, static_html

    with app.test_request_context(f"/attempts/{attempt_id}"):
        from studyhall.org.models import Person
        from studyhall.quizzes.routes_take import _PAPER_ATTEMPT, _PAPER_ROWS

        person_id = db.session.get(Attempt, attempt_id).person_id
        login_user(db.session.get(Person, person_id))
        attempt = db.session.execute(_PAPER_ATTEMPT, {"attempt_id": attempt_id,
                                                      "person_id": person_id}).one()
        rows = db.session.execute(_PAPER_ROWS, {"attempt_id": attempt_id}).all()
        items = [(row, item_of(row)) for row in rows]
        now = utcnow()
        timed("template render only", n, lambda: render_template(
            "quizzes/attempt_take.html", attempt=attempt, practice=False, items=items,
            now=now, feedback={}, paper_question=question_html, paper_cell=cell_html,
            paper_static=static_html))
        timed("item_of for 20 rows", n, lambda: [item_of(row) for row in rows])
        db.session.remove()


def starts_and_submits(app, counter: StatementCounter, accounts: list[str], quiz_id: int,
                       dump: str | None, answered: int = 0) -> None:
    """Each taker starts (one after another), saves ANSWERED answers (not timed), then
    each submits. Every other one is profiled (into DUMP.start and DUMP.submit when --dump
    is given); the others are timed, with how long each held SQLite's write lock."""
    from studyhall.extensions import db

    with app.app_context():
        locks = LockTimer(db.engine)
    clients = [logged_in_client(app, account, quiz_id) for account in accounts]
    profiles = {"start": cProfile.Profile(), "submit": cProfile.Profile()}
    attempts = []

    def one(step: str, number: int, client, url: str, token: str, expect: str):
        if number % 2:
            kept = len(locks.held)
            with profiles[step]:
                reply = client.post(url, data={"csrf_token": token})
            del locks.held[kept:]  # not the profiled ones
            return reply, None
        counter.take()
        began = time.process_time()
        reply = client.post(url, data={"csrf_token": token})
        seconds = time.process_time() - began
        assert reply.status_code == 302 and re.search(expect, reply.headers["Location"])
        return reply, (seconds, counter.take())

    for step in ("start", "submit"):
        if step == "submit":
            saves_and_inserts(app, locks, clients[0][0], attempts[0], len(clients) * 4)
            if answered:
                save_answers(clients, attempts, answered)
        timings, first = [], None
        locks.take()
        for number, (client, token) in enumerate(clients):
            if step == "start":
                reply, timing = one(step, number, client, f"/quizzes/{quiz_id}/start", token,
                                    r"/attempts/\d+$")
                attempts.append(int(re.search(r"/attempts/(\d+)", reply.headers["Location"])
                                    .group(1)))
            else:
                reply, timing = one(step, number, client, f"/attempts/{attempts[number]}/submit",
                                    token, r"/result$")
            if timing:
                timings.append(timing[0])
                first = first or timing[1]
        print(f"{step}: {statistics.median(timings) * 1000:.2f} ms CPU each (median of "
              f"{len(timings)} not profiled, client included); {locks.summary()}; "
              f"SQL statements of one {step}: {len(first)}")
        for statement in first:
            print("   ", " ".join(statement.split())[:150])
    for name, profile in profiles.items():
        if dump:
            profile.dump_stats(f"{dump}.{name}")


def save_answers(clients, attempts: list[int], answered: int) -> None:
    """Each taker saves their first ANSWERED answers, as the load client does."""
    for (client, _token), attempt_id in zip(clients, attempts, strict=True):
        csrf, questions = load.parse_paper(client.get(f"/attempts/{attempt_id}")
                                           .get_data(as_text=True))
        for position, kind, n in questions[:answered]:
            sent, _ = load.answer_for(kind, n, random.Random(attempt_id * 100 + position))
            assert client.post(f"/attempts/{attempt_id}/answers",
                               json={"position": position, "response": sent},
                               headers={"X-CSRFToken": csrf}).status_code == 200
    print(f"(each taker saved {answered} answers before the submits)")


def saves_and_inserts(app, locks: LockTimer, client, attempt_id: int, n: int) -> None:
    """N answer saves of one taker (an unanswered response: valid for every question
    type, the same statements as any save) against N bare INSERTs (POST /bench/insert):
    the CPU of each request and how long it holds the write lock."""
    bare = app.test_client()
    page = client.get(f"/attempts/{attempt_id}")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True))
    headers = {"X-CSRFToken": csrf.group(1)}

    def save():
        reply = client.post(f"/attempts/{attempt_id}/answers", headers=headers,
                            json={"position": 1, "response": None})
        assert reply.status_code == 200 and reply.get_json()["ok"], reply.status_code

    def insert():
        assert bare.post("/bench/insert").status_code == 200

    for _ in range(20):
        save(), insert()
    locks.take()
    figures = {}
    for label, fn in (("answer save", save), ("bare INSERT", insert)):
        cpu = timed(label, n, fn)
        figures[label] = (cpu, statistics.median(locks.held) if locks.held else None)
        print(f"    {locks.summary()}")
    (save_cpu, save_lock), (insert_cpu, insert_lock) = figures.values()
    print(f"save at {insert_cpu / save_cpu:.0%} of the bare INSERT by CPU" + (
        f"; holds the write lock {save_lock / insert_lock:.1f}× as long" if save_lock else ""))


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main(sys.argv[1:])
