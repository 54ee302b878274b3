"""Shared by the bench_*.py scripts: fresh databases, the app on them, medians, tables.

Figures are medians of REPEAT runs, reported beside a baseline measured in the same run
(PERFORMANCE.md): the machine is shared and noisy, so ratios carry and seconds do not.
"""

from __future__ import annotations

import contextlib
import io
import os
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import flask_migrate
import sqlalchemy as sa
from flask import Flask

import config
from studyhall import create_app
from studyhall.extensions import db

REPEAT = 3


def database_urls(tmp: Path) -> dict[str, Callable[[], str]]:
    """Name → a function that empties a database and returns its URL: SQLite in a new file
    under ``tmp`` always, PostgreSQL when BENCH_DATABASE_URL names one."""
    files = iter(range(1_000_000))

    def sqlite() -> str:
        return f"sqlite:///{tmp / f'bench-{next(files)}.sqlite3'}"

    urls = {"sqlite": sqlite}
    if os.environ.get("BENCH_DATABASE_URL"):
        urls["postgresql"] = lambda: reset_postgresql(os.environ["BENCH_DATABASE_URL"])
    return urls


def reset_postgresql(url: str) -> str:
    """Drop and recreate the public schema: the database is empty afterwards."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    return url


def make_app(url: str) -> Flask:
    """The app on ``url`` (TestingConfig otherwise), with the schema built by migrations."""

    class BenchConfig(config.TestingConfig):
        SQLALCHEMY_DATABASE_URI = url

    app = create_app(BenchConfig)
    # Alembic's INFO lines go to the stderr captured when env.py configures logging.
    with app.app_context(), contextlib.redirect_stderr(io.StringIO()):
        flask_migrate.upgrade()
    return app


def close_app(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def medians(runs: list[dict[str, float]]) -> dict[str, float]:
    """Per key, the median over runs (each run a dict of figures with the same keys)."""
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def collect(runs: list[dict[str, float]]) -> dict[str, list[float]]:
    """Per key, every run's figure (each run a dict of figures with the same keys)."""
    return {key: [run[key] for run in runs] for key in runs[0]}


def figure_row(database: str, phase: str, seconds: list[float], baseline: float) -> list:
    """A table row: the median, the range over the runs (how noisy the box was) and the
    median as a multiple of the baseline."""
    median = statistics.median(seconds)
    return [database, phase, median, f"{min(seconds):.2f}–{max(seconds):.2f}",
            f"{median / baseline:.1f}×"]


FIGURE_HEADERS = ["database", "phase", "median s", "range s", "× baseline"]


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident set size so far (Linux reports kilobytes)."""
    return resource.getrusage(who).ru_maxrss / 1024


def print_table(headers: list[str], rows: list[list[object]]) -> None:
    cells = [headers] + [[_format(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for index, row in enumerate(cells):
        print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                        for i, (cell, w) in enumerate(zip(row, widths, strict=True))))
        if index == 0:
            print("  ".join("-" * w for w in widths))


def _format(cell: object) -> str:
    return f"{cell:.3f}" if isinstance(cell, float) else str(cell)
