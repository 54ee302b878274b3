"""Settings a county sets for itself, from the environment (issue 12, the deployment's
left-overs): PUBLIC_HOLIDAYS, ADJUSTED_WORKDAYS and SESSION_RECORD_WORKING_DAYS were read
from the app's config but nothing set them from the environment, so a deployment could
only edit config.py. They are read and checked now; a value that cannot be used stops
start-up with a message that names the variable and says why."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from config import ConfigError, env_dates, env_int

ROOT = Path(__file__).resolve().parents[2]


def test_dates_commas_spaces_and_ranges(monkeypatch):
    monkeypatch.setenv("PUBLIC_HOLIDAYS",
                       " 2027-01-01, 2027-10-01..2027-10-03，2027-05-01\n2027-01-01 ")
    assert env_dates("PUBLIC_HOLIDAYS") == (
        date(2027, 1, 1), date(2027, 5, 1), date(2027, 10, 1), date(2027, 10, 2),
        date(2027, 10, 3))
    monkeypatch.setenv("PUBLIC_HOLIDAYS", "  ")
    assert env_dates("PUBLIC_HOLIDAYS") == ()
    monkeypatch.delenv("PUBLIC_HOLIDAYS")
    assert env_dates("PUBLIC_HOLIDAYS") == ()


@pytest.mark.parametrize("value, says", [
    ("2027-02-30", "'2027-02-30' is not a date"),
    ("2027/10/01", "'2027/10/01' is not a date"),
    ("国庆", "is not a date"),
    ("2027-10-07..2027-10-01", "is not a range of dates"),
    ("2027-01-01..2027-12-31", "at most 31 days"),
    ("2027-10-01..", "is not a date"),
])
def test_a_date_that_cannot_be_read_is_refused_by_name(monkeypatch, value, says):
    monkeypatch.setenv("ADJUSTED_WORKDAYS", value)
    with pytest.raises(ConfigError, match="^ADJUSTED_WORKDAYS: ") as caught:
        env_dates("ADJUSTED_WORKDAYS")
    assert says in str(caught.value)


@pytest.mark.parametrize("value, result", [("", 3), ("5", 5), (" 30 ", 30), ("1", 1)])
def test_record_days(monkeypatch, value, result):
    monkeypatch.setenv("SESSION_RECORD_WORKING_DAYS", value)
    assert env_int("SESSION_RECORD_WORKING_DAYS", 3, 1, 30) == result


@pytest.mark.parametrize("value, says", [("three", "is not a whole number"),
                                         ("2.5", "is not a whole number"),
                                         ("0", "out of range"), ("31", "out of range")])
def test_record_days_that_cannot_be_used(monkeypatch, value, says):
    monkeypatch.setenv("SESSION_RECORD_WORKING_DAYS", value)
    with pytest.raises(ConfigError, match="^SESSION_RECORD_WORKING_DAYS: ") as caught:
        env_int("SESSION_RECORD_WORKING_DAYS", 3, 1, 30)
    assert says in str(caught.value)


def test_the_bounds_are_those_of_a_units_own_setting():
    from studyhall.sessions import settings

    assert (settings.MIN_DAYS, settings.MAX_DAYS) == (1, 30)  # config.py's env_int bounds
    assert settings.RECORD_WORKING_DAYS == 3  # config.py's default


def start_app(**env) -> subprocess.CompletedProcess:
    """create_app() in a fresh interpreter with these variables, as gunicorn or a flask
    command would start; prints the three settings."""
    code = ("from studyhall import create_app; c = create_app().config; "
            "print(c['SESSION_RECORD_WORKING_DAYS'], "
            "[d.isoformat() for d in c['PUBLIC_HOLIDAYS']], "
            "[d.isoformat() for d in c['ADJUSTED_WORKDAYS']])")
    clean = {k: v for k, v in os.environ.items()
             if k not in ("PUBLIC_HOLIDAYS", "ADJUSTED_WORKDAYS",
                          "SESSION_RECORD_WORKING_DAYS", "STUDYHALL_CONFIG")}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120,
                          env={**clean, "PYTHONPATH": str(ROOT),
                               "DATABASE_URL": "sqlite://", **env})


def test_the_environment_sets_them_for_the_app():
    done = start_app(SESSION_RECORD_WORKING_DAYS="5",
                     PUBLIC_HOLIDAYS="2027-10-01..2027-10-03",
                     ADJUSTED_WORKDAYS="2027-09-26")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ("5 ['2027-10-01', '2027-10-02', '2027-10-03'] "
                                   "['2027-09-26']")


@pytest.mark.parametrize("env, says", [
    ({"PUBLIC_HOLIDAYS": "2027-10-32"}, "PUBLIC_HOLIDAYS: '2027-10-32' is not a date"),
    ({"SESSION_RECORD_WORKING_DAYS": "0"}, "SESSION_RECORD_WORKING_DAYS: 0 is out of range"),
    ({"PUBLIC_HOLIDAYS": "2027-10-01..2027-10-07", "ADJUSTED_WORKDAYS": "2027-10-07"},
     "PUBLIC_HOLIDAYS and ADJUSTED_WORKDAYS both list 2027-10-07"),
])
def test_a_bad_value_stops_start_up_and_says_why(env, says):
    done = start_app(**env)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1].startswith(f"config.ConfigError: {says}")
