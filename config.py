"""Configuration classes. ``create_app`` takes one of these; ``STUDYHALL_CONFIG`` picks it
from the environment (``default``, ``production``)."""

import contextlib
import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

# The value once shipped for development: anyone could sign cookies with it. Never used
# now; production refuses it explicitly in case an old environment file still sets it.
DEV_SECRET_KEY = "dev-only-not-secret"
#: Where the key lives, in the instance folder, when SECRET_KEY is not set.
SECRET_KEY_FILE = "secret_key"


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

    PEOPLE_PER_PAGE = 30
    QUESTIONS_PER_PAGE = 20


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
