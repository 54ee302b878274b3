"""Configuration classes. ``create_app`` takes one of these; ``STUDYHALL_CONFIG`` picks it
from the environment (``default``, ``production``)."""

import contextlib
import os
import re
import secrets
from datetime import date, timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

# The value once shipped for development: anyone could sign cookies with it. Never used
# now; production refuses it explicitly in case an old environment file still sets it.
DEV_SECRET_KEY = "dev-only-not-secret"
#: Where the key lives, in the instance folder, when SECRET_KEY is not set.
SECRET_KEY_FILE = "secret_key"


class ConfigError(RuntimeError):
    """A setting in the environment that cannot be used: start-up stops and says which
    and why, rather than running with a value nobody meant."""


#: The longest range of dates one PUBLIC_HOLIDAYS / ADJUSTED_WORKDAYS item may name.
MAX_DATE_RANGE_DAYS = 31


def env_dates(name: str) -> tuple[date, ...]:
    """ISO dates from the environment variable ``name``, separated by commas or spaces;
    ``2027-10-01..2027-10-07`` is every day of a range. Unset or blank: none.

    :raises ConfigError: an item that is not a date or a range of dates."""
    text = os.environ.get(name, "")
    days: set[date] = set()
    for item in re.split(r"[\s,，;；]+", text.strip()):
        if not item:
            continue
        first, dots, last = item.partition("..")
        try:
            start = date.fromisoformat(first)
            end = date.fromisoformat(last) if dots else start
        except ValueError:
            raise ConfigError(
                f"{name}: {item!r} is not a date. Write ISO dates (YYYY-MM-DD) separated "
                f"by commas or spaces, and a range as 2027-10-01..2027-10-07.") from None
        if not start <= end <= start + timedelta(days=MAX_DATE_RANGE_DAYS):
            raise ConfigError(f"{name}: {item!r} is not a range of dates (its first day "
                              f"first, at most {MAX_DATE_RANGE_DAYS} days long).")
        days.update(start + timedelta(days=n) for n in range((end - start).days + 1))
    return tuple(sorted(days))


def env_int(name: str, default: int, low: int, high: int) -> int:
    """A whole number from the environment between ``low`` and ``high``, or ``default``.

    :raises ConfigError: not a whole number, or out of range."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{name}: {text!r} is not a whole number "
                          f"(from {low} to {high}).") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}: {value} is out of range (from {low} to {high}).")
    return value


def _one_kind_each(holidays: tuple[date, ...], workdays: tuple[date, ...]) -> None:
    both = sorted(set(holidays) & set(workdays))
    if both:
        raise ConfigError("PUBLIC_HOLIDAYS and ADJUSTED_WORKDAYS both list "
                          f"{', '.join(d.isoformat() for d in both)}: a day is one or the "
                          "other.")


class Config:
    #: Unset: create_app uses instance/secret_key, made with a random key on first run.
    SECRET_KEY = os.environ.get("SECRET_KEY") or None
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'studyhall.sqlite3'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    # SQLite waits this long for a lock before giving up (milliseconds).
    SQLITE_BUSY_TIMEOUT_MS = 5000
    # NORMAL survives a crash of the process; FULL also survives power loss at a cost of
    # about half the write throughput (PERFORMANCE.md). README says which we chose.
    SQLITE_SYNCHRONOUS = os.environ.get("SQLITE_SYNCHRONOUS", "NORMAL")

    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
    LANGUAGES = {"zh_CN": "简体中文", "en": "English"}

    # Uploads (rosters, question files) are capped here; Flask answers 413 beyond it.
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_UPLOAD_MB", "10")) * 1024 * 1024
    # Rows a web import previews and confirms within gunicorn's 30 s timeout even on a
    # loaded box (bench/bench_upload_preview.py, BENCHMARKS.md); larger files go through
    # the CLI (flask import-roster / import-questions), which has no such cap. Rows as
    # Excel numbers them (title and header included); for the question bank, rows of a
    # table or questions of a text file.
    MAX_ROSTER_ROWS = int(os.environ.get("MAX_ROSTER_ROWS", "10000"))
    MAX_QUESTION_ROWS = int(os.environ.get("MAX_QUESTION_ROWS", "5000"))
    # Materials' files: the largest kept, and where (default: instance/files).
    MAX_FILE_MB = float(os.environ.get("MAX_FILE_MB", "10"))
    FILE_STORAGE_DIR = os.environ.get("FILE_STORAGE_DIR") or None
    # Background exports and their progress (default: instance/exports). With several app
    # hosts, a folder they all mount: the page polls through whichever host nginx picks.
    EXPORT_DIR = os.environ.get("EXPORT_DIR") or None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=7)
    # A login session's last use is written at most this often (auth/login_sessions.py).
    LOGIN_SESSION_TOUCH_SECONDS = 300
    WTF_CSRF_TIME_LIMIT = 12 * 3600

    # Failed-login counters: in the database unless this names a shared storage (redis://).
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # Failed logins allowed before a pause, per account and per client address. A whole
    # school may share one address (NAT), so the address limit is far above a typo rate.
    LOGIN_LIMIT_PER_ACCOUNT = "5 per 10 minutes"
    LOGIN_LIMIT_PER_IP = "100 per 10 minutes"
    # How many reverse proxies (nginx) stand in front and set X-Forwarded-For/-Proto;
    # 0 when the app faces clients directly. Wrong values let clients forge addresses.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
    # Every app host decides exam deadlines, check-in windows and export heartbeats by its
    # own clock: /healthz reports "skewed" (still 200) when this host's clock and the
    # database's differ by more than this many seconds (deploy/README.md, "Clocks").
    HEALTH_CLOCK_SKEW_SECONDS = env_int("HEALTH_CLOCK_SKEW_SECONDS", 5, 2, 3600)

    PEOPLE_PER_PAGE = 30
    QUESTIONS_PER_PAGE = 20

    # A held session's record is due this many working days after the meeting, unless
    # its unit (or one above) sets its own (studyhall/sessions/settings.py: 1 to 30).
    SESSION_RECORD_WORKING_DAYS = env_int("SESSION_RECORD_WORKING_DAYS", 3, 1, 30)
    # Working days are Monday to Friday, except PUBLIC_HOLIDAYS (法定节假日), plus the
    # weekend days made working (调休上班): ISO dates, commas or spaces, ranges with "..".
    PUBLIC_HOLIDAYS = env_dates("PUBLIC_HOLIDAYS")
    ADJUSTED_WORKDAYS = env_dates("ADJUSTED_WORKDAYS")
    _one_kind_each(PUBLIC_HOLIDAYS, ADJUSTED_WORKDAYS)


class DefaultConfig(Config):
    """Development and ``make run``: SQLite in instance/ unless DATABASE_URL says otherwise."""


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing"
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    PEOPLE_PER_PAGE = 5
    QUESTIONS_PER_PAGE = 5


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"

    @classmethod
    def check(cls) -> None:
        """Refuse to run in production without a strong SECRET_KEY in the environment
        (every host must share it, so it is not made on the fly as in development)."""
        problem = secret_key_problem(os.environ.get("SECRET_KEY", ""))
        if problem:
            raise RuntimeError(
                f"SECRET_KEY {problem}. Production needs a random value of at least 32 "
                "characters, e.g. python -c 'import secrets; print(secrets.token_hex(32))'"
            )


#: zxcvbn's estimate of the guesses a production key must at least need (10^24, about 80
#: bits): a random 32-character hex key scores ~10^31; "a" * 32, "0123456789abcdef" * 2 or
#: a word repeated score under 10^6.
MIN_KEY_GUESSES_LOG10 = 24
MIN_KEY_LENGTH = 32
MIN_KEY_DISTINCT = 10


def secret_key_problem(key: str) -> str | None:
    """What is wrong with ``key`` as a production secret, or None."""
    if not key:
        return "is not set"
    if key == DEV_SECRET_KEY:
        return "is the development value once shipped with the code"
    if len(key) < MIN_KEY_LENGTH:
        return f"is shorter than {MIN_KEY_LENGTH} characters"
    if len(set(key)) < MIN_KEY_DISTINCT:
        return f"has fewer than {MIN_KEY_DISTINCT} different characters"
    from zxcvbn import zxcvbn

    if zxcvbn(key[:72])["guesses_log10"] < MIN_KEY_GUESSES_LOG10:
        return "is too predictable (repeated pieces, runs of characters or common words)"
    return None


def instance_secret_key(instance_path: str | os.PathLike) -> str:
    """The key kept in ``instance_path``/secret_key, made on first run: random, readable by
    its owner only (0600), and kept, so sessions survive restarts. Workers starting at the
    same moment agree on one key: each writes a candidate to a file of its own and links it
    into place, and only the first link succeeds."""
    path = Path(instance_path) / SECRET_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        candidate = path.with_name(f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_hex(32) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            with contextlib.suppress(FileExistsError):  # another worker was first
                os.link(candidate, path)
        finally:
            os.unlink(candidate)
    key = path.read_text(encoding="ascii").strip()
    if len(key) < MIN_KEY_LENGTH:
        raise RuntimeError(f"{path} does not hold a usable key; delete it to make a new one")
    return key


CONFIGS = {"default": DefaultConfig, "production": ProductionConfig, "testing": TestingConfig}
