"""Failed-login limits, per account and per client address.

Only failures count. Limits come from the config (LOGIN_LIMIT_PER_ACCOUNT/_PER_IP) and
the counters live in Flask-Limiter's storage (memory by default, Redis through
RATELIMIT_STORAGE_URI when several workers or hosts serve the site).
"""

from __future__ import annotations

import time

from flask import current_app, request
from limits import parse

from studyhall.extensions import limiter


def _keys(account: str) -> list[tuple[str, str, str]]:
    config = current_app.config
    return [
        (config["LOGIN_LIMIT_PER_ACCOUNT"], "login-account", account.lower()),
        (config["LOGIN_LIMIT_PER_IP"], "login-ip", request.remote_addr or "-"),
    ]


def _enabled() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED", True))


def seconds_until_allowed(account: str) -> int:
    """0 if a login attempt for ``account`` from this address may go ahead now, else how
    many seconds until it may."""
    if not _enabled():
        return 0
    wait = 0
    for limit_text, *identifiers in _keys(account):
        item = parse(limit_text)
        if not limiter.limiter.test(item, *identifiers):
            reset_at, _remaining = limiter.limiter.get_window_stats(item, *identifiers)
            wait = max(wait, int(reset_at - time.time()) + 1)
    return wait


def record_failure(account: str) -> None:
    if _enabled():
        for limit_text, *identifiers in _keys(account):
            limiter.limiter.hit(parse(limit_text), *identifiers)


def clear_account(account: str) -> None:
    """A successful login forgives the account's earlier failures."""
    if _enabled():
        limit_text, *identifiers = _keys(account)[0]
        limiter.limiter.clear(parse(limit_text), *identifiers)
