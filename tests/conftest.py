"""Shared fixtures. App tests run once on SQLite and, when TEST_DATABASE_URL is set, again
on PostgreSQL. Under CI a missing database or browser fails the run instead of skipping."""

from __future__ import annotations

import hashlib
import os
import threading

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def skip_or_fail(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this must not be skipped)")
    pytest.skip(reason)


class _RememberedScrypt:
    """``hashlib.scrypt`` that computes each (password, salt, cost) once per test process.

    Every login verifies one full-strength scrypt hash (studyhall/auth/passwords.py: the
    dummy hash when the account's own is light), 0.1–0.2 s of CPU each, and the suite logs
    in thousands of times with the same few passwords against the same dummy hash. scrypt
    is a pure function of its arguments, so answering a repeated call from memory returns
    the very bytes it would compute: every hash, method and check stays what the app makes
    (``scrypt:32768:8:1`` included); only the repeated work is gone. A new salt (a new
    hash) is still computed."""

    def __init__(self, real):
        self.real = real
        self.known: dict[tuple, bytes] = {}
        self.lock = threading.Lock()

    def __call__(self, password, *, salt, n, r, p, maxmem=0, dklen=64):
        key = (bytes(password), bytes(salt), n, r, p, dklen)
        with self.lock:
            found = self.known.get(key)
        if found is None:
            found = self.real(password, salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=dklen)
            with self.lock:
                if len(self.known) > 10_000:
                    self.known.clear()
                self.known[key] = found
        return found


@pytest.fixture(scope="session", autouse=True)
def _remembered_scrypt():
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(hashlib, "scrypt", _RememberedScrypt(hashlib.scrypt))
        yield
