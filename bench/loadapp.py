"""The app as bench_quiz_load.py serves it under gunicorn, plus its bare ceiling routes.

    gunicorn -w 4 -k gthread --threads 4 --pythonpath /work/main,/work/main/bench \
        'loadapp:create()'

with BENCH_LOAD_DATABASE_URL naming the database. The config is TestingConfig with CSRF
on (the JSON saves send X-CSRFToken, as the page's script does) and rate limits off.

The ceiling routes live in the same app, so that only the route differs from the quiz
path: the same create_app, the same engine, pool and SQLite pragmas, BEGIN IMMEDIATE for
a POST, the same before/after-request hooks, the same gunicorn workers.

- ``POST /bench/insert``: one INSERT into ``bench_insert`` through db.session, commit,
  a small JSON reply. No login, no CSRF (exempt): the bare write.
- ``GET /bench/ping``: a small JSON reply, no database.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from flask import Flask, jsonify

import config

URL_VARIABLE = "BENCH_LOAD_DATABASE_URL"

bench_insert = sa.Table(
    "bench_insert", sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("note", sa.String(40), nullable=False),
)


def load_config(url: str) -> type:
    class LoadConfig(config.TestingConfig):
        # Errors answer 500 through the app's handlers, as in production.
        TESTING = False
        WTF_CSRF_ENABLED = True
        RATELIMIT_ENABLED = False
        SQLALCHEMY_DATABASE_URI = url

    return LoadConfig


def create(url: str | None = None) -> Flask:
    from studyhall import create_app
    from studyhall.extensions import csrf, db
    from studyhall.model_helpers import utcnow

    app = create_app(load_config(url or os.environ[URL_VARIABLE]))

    def insert():
        db.session.execute(sa.insert(bench_insert).values(at=utcnow(), note="ceiling"))
        db.session.commit()
        return jsonify(ok=True)

    def ping():
        return jsonify(ok=True)

    app.add_url_rule("/bench/insert", "bench_insert", csrf.exempt(insert), methods=["POST"])
    app.add_url_rule("/bench/ping", "bench_ping", ping)
    return app
