"""Passwords: checking a login without revealing whether the account exists."""

from __future__ import annotations

import secrets
from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash

from studyhall.org.models import CHOSEN_PASSWORD_METHOD, Person


@cache
def _dummy_hash() -> str:
    """A hash of a random password made as a chosen password is, to spend the same time on
    an account that does not exist as on one that does."""
    return generate_password_hash(secrets.token_urlsafe(16), method=CHOSEN_PASSWORD_METHOD)


def _method(password_hash: str) -> str:
    return password_hash.split("$", 1)[0]


def verify_login(person: Person | None, password: str) -> bool:
    """Whether ``person`` may sign in with ``password``. Every call verifies exactly one
    full-strength hash, whether the account is unknown, inactive, without a password or
    still on a light initial hash, so the answer's timing does not tell them apart."""
    dummy = _dummy_hash()
    if person is None or not person.is_active or not person.password_hash:
        check_password_hash(dummy, password)
        return False
    ok = check_password_hash(person.password_hash, password)
    if _method(person.password_hash) != _method(dummy):
        check_password_hash(dummy, password)
    return ok
