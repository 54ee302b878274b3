"""The audit log page's query with many entries: the first and last page of 50 (the
entries and the count the pager needs) for a whole-tree admin and for an admin of one
general branch (a tenth of the tree), whose scope is decided in SQL.

Setup, in-process on a fresh SQLite file (and PostgreSQL when BENCH_DATABASE_URL is set):
a committee with 10 general branches of 5 branches each, 5,000 people, ENTRIES audit
entries (default 200,000) on random people by random actors, then ANALYZE (without it
PostgreSQL plans the fresh bulk-loaded table blind: 1-2 s a page instead of ms).

    .venv/bin/python bench/bench_audit_log.py --entries 200000
"""

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import harness
import sqlalchemy as sa

from studyhall.extensions import db


def parse_options(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=200_000)
    return parser.parse_args(argv)


def fill(entries: int):
    from studyhall.audit import AuditEntry
    from studyhall.org import operations as org_ops
    from studyhall.org.models import Person, PoliticalStatus, Role, UnitKind

    rng = random.Random(1)
    top = org_ops.create_unit(None, "局党委", UnitKind.COMMITTEE)
    generals = [org_ops.create_unit(top, f"总支{i}", UnitKind.GENERAL_BRANCH)
                for i in range(10)]
    branches = [org_ops.create_unit(g, f"支部{g.id}-{j}", UnitKind.BRANCH)
                for g in generals for j in range(5)]
    db.session.flush()
    db.session.execute(sa.insert(Person), [
        {"account": f"p{i}", "name": f"人{i}", "unit_id": rng.choice(branches).id,
         "political_status": PoliticalStatus.CPC_MEMBER, "role": Role.TEACHER,
         "password_hash": "", "must_change_password": False, "session_version": 1}
        for i in range(5000)])
    admin = Person(account="a", name="管理员", unit=top, role=Role.ADMIN, password_hash="")
    unit_admin = Person(account="u", name="总支管理员", unit=generals[0], role=Role.ADMIN,
                        password_hash="", managed_units=[generals[0]])
    db.session.add_all([admin, unit_admin])
    db.session.flush()
    ids = db.session.scalars(sa.select(Person.id)).all()
    actions = ["person.password_reset", "person.move", "attempt.score", "export.roster"]
    for start in range(0, entries, 20_000):
        db.session.execute(sa.insert(AuditEntry), [
            {"actor_id": rng.choice(ids), "action": rng.choice(actions),
             "target_type": "person", "target_id": rng.choice(ids),
             "details": {"before": 1, "after": 2}}
            for _ in range(min(20_000, entries - start))])
    db.session.commit()
    # Planner statistics, as autovacuum (PostgreSQL) or a periodic ANALYZE would leave them
    # on a log that grew over months rather than in one bulk insert.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("ANALYZE"))
    return admin, unit_admin


def timed_page(viewer, filters, page_number):
    from studyhall.audit_log import queries

    times = []
    for _ in range(harness.REPEAT):
        began = time.perf_counter()
        queries.without_jit()  # as the page does
        page = db.paginate(queries.query_entries(viewer, filters), page=page_number,
                           per_page=50, error_out=False)
        queries.shown_entries(viewer, list(page.items))
        times.append((time.perf_counter() - began) * 1000)
        db.session.commit()
    return page, statistics.median(times)


def main(argv: list[str] | None = None) -> dict:
    from studyhall.audit_log.queries import AuditFilters

    options = parse_options(argv or [])
    results, rows = {}, []
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp:
        for database, make_url in harness.database_urls(Path(tmp)).items():
            app = harness.make_app(make_url())
            with app.app_context(), app.test_request_context():
                admin, unit_admin = fill(options.entries)
                for who, viewer in (("whole tree", admin), ("one general branch",
                                                            unit_admin)):
                    for label, filters in (("no filter", AuditFilters()),
                                           ("group=passwords", AuditFilters(group="passwords"))):
                        first, first_ms = timed_page(viewer, filters, 1)
                        _last, last_ms = timed_page(viewer, filters, first.pages)
                        rows.append([database, who, label, first.total, f"{first_ms:.0f}",
                                     f"{last_ms:.0f}"])
                        results[f"{database} {who} {label} first ms"] = first_ms
                db.session.remove()
                db.engine.dispose()
    print(f"audit log: {options.entries} entries; median of {harness.REPEAT} (ms), page of 50 "
          "with its count and its names")
    harness.print_table(["database", "admin of", "filter", "entries seen", "first page ms",
                         "last page ms"], rows)
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
