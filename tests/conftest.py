"""Shared fixtures. App tests run once on SQLite and, when TEST_DATABASE_URL is set, again
on PostgreSQL. Under CI a missing database or browser fails the run instead of skipping."""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def skip_or_fail(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this must not be skipped)")
    pytest.skip(reason)
