"""Configuration classes. ``create_app`` takes one of these; ``STUDYHALL_CONFIG`` picks it
from the environment (``default``, ``production``)."""

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

# The value shipped for development; production refuses to start with it.
DEV_SECRET_KEY = "dev-only-not-secret"


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
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
    # Materials' files: the largest kept, and where (default: instance/files).
    MAX_FILE_MB = float(os.environ.get("MAX_FILE_MB", "10"))
    FILE_STORAGE_DIR = os.environ.get("FILE_STORAGE_DIR") or None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=7)
    WTF_CSRF_TIME_LIMIT = 12 * 3600

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
        """Refuse to run in production with the development secret or none at all."""
        key = os.environ.get("SECRET_KEY", "")
        if len(key) < 32 or key == DEV_SECRET_KEY:
            raise RuntimeError(
                "SECRET_KEY must be set to a random value of at least 32 characters in "
                "production, e.g. python -c 'import secrets; print(secrets.token_hex(32))'"
            )


CONFIGS = {"default": DefaultConfig, "production": ProductionConfig, "testing": TestingConfig}
