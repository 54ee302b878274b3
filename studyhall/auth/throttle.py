"""Failed-login limits, per account and per client address, shared by every worker.

Only failures count; a successful login forgives the account's. Limits come from the
config (LOGIN_LIMIT_PER_ACCOUNT/_PER_IP, fixed windows that start at the first failure).
Where the counters live follows the deployment:

- RATELIMIT_STORAGE_URI unset or memory:// (one host, SQLite or PostgreSQL): in the
  database, table ``login_failure``. Memory would count per worker, so two workers would
  allow twice the limit. A failure is one upsert of two small rows; the check is one
  indexed read; nothing is written on the way to a successful login but one delete.
- Any other URI (redis://, as README's production set-up): in that storage, through
  Flask-Limiter's fixed-window limiter.

The check and the count are not one atomic step: requests already past the check when the
limit is reached still count, so a burst can get a few more tries than the limit (at most
one per request in flight, i.e. per worker), never a steady stream.
"""

from __future__ import annotations

import math
import time
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, request
from limits import RateLimitItem, parse
from sqlalchemy.dialects import postgresql, sqlite

from studyhall.auth.models import LoginFailure
from studyhall.extensions import db, limiter
from studyhall.model_helpers import utcnow


def _enabled() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED", True))


def counts_in_database() -> bool:
    """True unless a shared storage (Redis) is configured."""
    uri = current_app.config.get("RATELIMIT_STORAGE_URI") or "memory://"
    return uri.startswith("memory://")


def _limits(account: str) -> list[tuple[RateLimitItem, str, str]]:
    """(limit, kind, identifier) for the account and for the client's address."""
    config = current_app.config
    return [
        (parse(config["LOGIN_LIMIT_PER_ACCOUNT"]), "login-account", account.lower()[:100]),
        (parse(config["LOGIN_LIMIT_PER_IP"]), "login-ip", request.remote_addr or "-"),
    ]


_KEY_PREFIX = {"login-account": "a", "login-ip": "i"}


def _row_key(kind: str, identifier: str) -> str:
    return f"{_KEY_PREFIX[kind]}:{identifier}"  # "a:teacher01", "i:10.0.0.7"


def seconds_until_allowed(account: str) -> int:
    """0 if a login attempt for ``account`` from this address may go ahead now, else how
    many seconds until it may."""
    if not _enabled():
        return 0
    limits = _limits(account)
    if counts_in_database():
        return _database_wait(limits)
    wait = 0
    for item, *identifiers in limits:
        if not limiter.limiter.test(item, *identifiers):
            reset_at, _remaining = limiter.limiter.get_window_stats(item, *identifiers)
            wait = max(wait, int(reset_at - time.time()) + 1)
    return wait


def record_failure(account: str) -> None:
    if not _enabled():
        return
    limits = _limits(account)
    if counts_in_database():
        _database_hit(limits)
        return
    for item, *identifiers in limits:
        limiter.limiter.hit(item, *identifiers)


def clear_account(account: str) -> None:
    """A successful login forgives the account's earlier failures."""
    if not _enabled():
        return
    item, kind, identifier = _limits(account)[0]
    if counts_in_database():
        now = utcnow()
        db.session.execute(
            sa.delete(LoginFailure)
            .where(sa.or_(LoginFailure.key == _row_key(kind, identifier),
                          LoginFailure.expires_at <= now))
            .execution_options(synchronize_session=False))
        return
    limiter.limiter.clear(item, kind, identifier)


def _database_wait(limits) -> int:
    now = utcnow()
    amounts = {_row_key(kind, identifier): item.amount for item, kind, identifier in limits}
    rows = db.session.execute(
        sa.select(LoginFailure.key, LoginFailure.failures, LoginFailure.expires_at)
        .where(LoginFailure.key.in_(list(amounts)), LoginFailure.expires_at > now))
    return max((math.ceil((expires_at - now).total_seconds())
                for key, failures, expires_at in rows if failures >= amounts[key]), default=0)


def _database_hit(limits) -> None:
    """Count one failure on each key in one statement: a new window starts at the first
    failure after the last one ended."""
    now = utcnow()
    dialect = {"sqlite": sqlite, "postgresql": postgresql}[db.session.get_bind().dialect.name]
    insert = dialect.insert(LoginFailure).values([
        {"key": _row_key(kind, identifier), "failures": 1,
         "expires_at": now + timedelta(seconds=item.get_expiry())}
        for item, kind, identifier in limits])
    ended = LoginFailure.expires_at <= now
    db.session.execute(insert.on_conflict_do_update(
        index_elements=[LoginFailure.key],
        set_={"failures": sa.case((ended, 1), else_=LoginFailure.failures + 1),
              "expires_at": sa.case((ended, insert.excluded.expires_at),
                                    else_=LoginFailure.expires_at)}))
