"""An editor changes a quiz's title and close time during a burst of 1,000 starts
(issue 12 item 6, a known failure of other systems): the burst must not break.

gunicorn (gthread, 4 workers × 4 threads) serves bench/loadapp.py (CSRF on) on SQLite and,
when BENCH_DATABASE_URL is set, PostgreSQL. TAKERS (1,000) log in (not timed), then all
POST /quizzes/<id>/start at one instant and load their paper; an admin, through the real
edit page (GET the form, POST it back with every field as the browser would), changes
the title and moves the close to 20 minutes from now (before the 30-minute time limit
ends) 0.2 s after the release, and again (25 minutes, another title) 1 s after. Checks:

- 0 errors: every start answered with the redirect to its attempt, every paper 200, both
  edits answered with the redirect to the quiz;
- one attempt per taker, each in progress with its paper's rows;
- every attempt's deadline follows the server's rule with the close as it ended:
  min(started_at + 30 min + extra, closes_at) — none kept a close it read before an
  edit (the failure fixed in quizzes/taking.py: a start that drew its paper before an
  edit and stored it after kept the old close);
- the quiz has the last title and close; the audit has each close change
  (quiz.closes_at) and the recompute of the attempts' deadlines (quiz.attempt_deadlines).

    .venv/bin/python bench/chaos_editor.py --takers 1000            # SQLite
    BENCH_DATABASE_URL=postgresql+psycopg://…_test .venv/bin/python bench/chaos_editor.py \
        --db both
"""

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import bench_quiz_load as load
import chaos_common as chaos
import harness
import loadapp
import sqlalchemy as sa

from studyhall import create_app
from studyhall.extensions import db

BEIJING = ZoneInfo("Asia/Shanghai")
LIMIT_MINUTES = 30  # bench_quiz_load's exam


def parse_options(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--takers", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--db", default="sqlite", choices=("sqlite", "postgresql", "both"))
    return parser.parse_args(argv)


class _Form(HTMLParser):
    """What a browser would submit from the page's form: enabled inputs (checked boxes
    only), selected options, textareas."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if "disabled" in a:
            return
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields[name] = a.get("value") or "y"
            elif kind not in ("submit", "button", "file"):
                self.fields[name] = a.get("value") or ""
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and ("selected" in a
                                                   or self._select not in self.fields):
            self.fields[self._select] = a.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data


async def edit(editor, quiz_id: int, title: str, closes_local: datetime, log: list) -> None:
    url = f"/manage/quizzes/{quiz_id}/edit"
    status, body, _ = await load.timed_request(editor, "GET", url, [])
    form = _Form()
    form.feed(body)
    form.fields.update(title=title, closes_at=closes_local.strftime("%Y-%m-%dT%H:%M"))
    began = time.perf_counter()
    status, body, location = await load.timed_request(editor, "POST", url, [],
                                                      data=form.fields)
    log.append((title, closes_local, status, location, time.perf_counter() - began,
                body[:300] if status != 302 else ""))


async def burst(base: str, accounts: list[str], quiz_id: int, edits: list) -> dict:
    takers = [load.Taker(a, load.new_session(base)) for a in accounts]
    editor = load.new_session(base)
    samples = {"start": [], "page": []}
    log: list = []
    try:
        limiter = asyncio.Semaphore(20)

        async def one(taker):
            async with limiter:
                for attempt in range(5):  # a loaded box: logging in is not what is tested
                    try:
                        await load.log_in(taker, quiz_id)
                        return
                    except SystemExit:
                        if attempt == 4:
                            raise
                        await asyncio.sleep(1)

        began = time.perf_counter()
        await asyncio.gather(*(one(t) for t in takers))
        print(f"    {len(takers)} takers logged in in {time.perf_counter() - began:.0f} s",
              flush=True)
        _, body, _ = await load.timed_request(editor, "GET", "/login", [])
        await load.timed_request(editor, "POST", "/login", [], data={
            "account": "bench-admin", "password": load.PASSWORD,
            "csrf_token": load.CSRF_INPUT.search(body).group(1)})
        go = asyncio.Event()

        async def start(taker):
            await go.wait()
            status, _, location = await load.timed_request(
                taker.session, "POST", f"/quizzes/{quiz_id}/start", samples["start"],
                expect=load.redirect_to(r"/attempts/\d+$"), data={"csrf_token": taker.csrf})
            found = load.ATTEMPT_URL.search(location)
            if status == 302 and found:
                taker.attempt_id = int(found.group(1))
                await load.timed_request(
                    taker.session, "GET", f"/attempts/{taker.attempt_id}", samples["page"],
                    expect=lambda s, b, _l: s == 200 and "csrf-token" in b)

        async def editing():
            await go.wait()
            for delay, title, closes_local in edits:
                await asyncio.sleep(delay)
                await edit(editor, quiz_id, title, closes_local, log)

        tasks = [asyncio.create_task(start(t)) for t in takers]
        tasks.append(asyncio.create_task(editing()))
        await asyncio.sleep(0.5)
        released = time.perf_counter()
        go.set()
        await asyncio.wait_for(asyncio.gather(*tasks), load.PHASE_TIMEOUT)
        span = max(s.end for s in samples["start"]) - released
    finally:
        await asyncio.gather(*(t.session.close() for t in takers), editor.close())
    return {"samples": samples, "edits": log, "span": span}


def check(url: str, quiz_id: int, takers: int, final_title: str, verdicts, label: str
          ) -> None:
    from studyhall.audit import AuditEntry
    from studyhall.quizzes.models import (
        Attempt,
        AttemptQuestion,
        AttemptStatus,
        Quiz,
        QuizRecipient,
    )

    app = create_app(loadapp.load_config(url))
    with app.app_context():
        quiz = db.session.get(Quiz, quiz_id)
        attempts = db.session.scalars(sa.select(Attempt).where(Attempt.quiz_id == quiz_id)
                                      ).all()
        extra = dict(db.session.execute(sa.select(QuizRecipient.person_id,
                                                  QuizRecipient.extra_minutes)
                                        .where(QuizRecipient.quiz_id == quiz_id)).all())
        rows = dict(db.session.execute(
            sa.select(AttemptQuestion.attempt_id, sa.func.count())
            .join(Attempt).where(Attempt.quiz_id == quiz_id)
            .group_by(AttemptQuestion.attempt_id)).all())
        actions = [a for (a,) in db.session.execute(
            sa.select(AuditEntry.action).where(AuditEntry.action.like("quiz.%")))]
        people = {a.person_id for a in attempts}
        verdicts.check(len(attempts) == takers == len(people) and all(
            a.status is AttemptStatus.IN_PROGRESS and rows.get(a.id, 0) > 0
            for a in attempts),
            f"{label}: one attempt in progress, with its paper, per taker: {len(attempts)} "
            f"attempts of {len(people)} people")
        wrong = []
        for a in attempts:
            rule = min(a.started_at + timedelta(minutes=LIMIT_MINUTES
                                                + extra.get(a.person_id, 0)), quiz.closes_at)
            if a.deadline_at != rule:
                wrong.append((a.id, a.started_at, a.deadline_at, rule))
        verdicts.check(not wrong, f"{label}: every deadline = min(start + {LIMIT_MINUTES} "
                       f"min, the close as it ended, {quiz.closes_at:%H:%M:%S} UTC): "
                       f"{len(wrong)} not, e.g. {wrong[:2]}")
        verdicts.check(quiz.title == final_title, f"{label}: the quiz has the last title "
                       f"({quiz.title})")
        verdicts.check(actions.count("quiz.closes_at") == 2
                       and "quiz.attempt_deadlines" in actions,
                       f"{label}: audit: {actions.count('quiz.closes_at')} quiz.closes_at, "
                       f"{actions.count('quiz.attempt_deadlines')} quiz.attempt_deadlines")
        db.session.remove()
        db.engine.dispose()


def run(database: str, url: str, options, tmp: Path, verdicts) -> None:
    accounts, (quiz_id,) = load.setup_database(url, options.takers, 1)
    now_local = datetime.now(BEIJING).replace(second=0, microsecond=0, tzinfo=None)
    edits = [(0.2, "压测考试（已改标题）", now_local + timedelta(minutes=20)),
             (0.8, "压测考试（再次修改）", now_local + timedelta(minutes=25))]
    log = tmp / f"gunicorn-editor-{database}.log"
    with chaos.gunicorn(url, log, workers=options.workers) as (base, _master):
        result = asyncio.run(burst(base, accounts, quiz_id, edits))
    starts, pages = result["samples"]["start"], result["samples"]["page"]
    bad_starts = sum(1 for s in starts if not s.ok)
    bad_pages = sum(1 for s in pages if not s.ok)
    print(f"  {database}: {len(starts)} starts answered in {result['span']:.1f} s; edits: "
          + "; ".join(f"{title} → close {close:%H:%M} 北京时间: {status} in {seconds:.2f} s"
                      f"{' ' + body if body else ''}"
                      for title, close, status, _l, seconds, body in result["edits"]),
          flush=True)
    verdicts.check(bad_starts == 0 and bad_pages == 0 and len(starts) == options.takers,
                   f"{database}: the burst did not break: {bad_starts} of {len(starts)} "
                   f"starts and {bad_pages} of {len(pages)} papers not as expected "
                   f"{load.UNEXPECTED[:2]}")
    verdicts.check(all(e[2] == 302 for e in result["edits"]) and len(result["edits"]) == 2,
                   f"{database}: both edits saved during the burst")
    check(url, quiz_id, options.takers, edits[-1][1], verdicts, database)
    found = chaos.tracebacks(log)
    verdicts.check(found == 0, f"{database}: no traceback in gunicorn's log ({found})")
    if found:
        print(chaos.first_traceback(log))


def main(argv: list[str] | None = None) -> None:
    options = parse_options(argv or [])
    verdicts = chaos.Verdicts("chaos_editor")
    print(f"chaos_editor: {options.takers} starts at one instant while an editor changes "
          "the title and close time twice", flush=True)
    with tempfile.TemporaryDirectory(prefix="chaos-editor-") as tmp:
        urls = harness.database_urls(Path(tmp))
        for database in chaos.database_choice(options.db):
            began = time.perf_counter()
            run(database, urls[database](), options, Path(tmp), verdicts)
            print(f"  ({time.perf_counter() - began:.0f} s)", flush=True)
    verdicts.finish()


if __name__ == "__main__":
    main(sys.argv[1:])
