"""Extensions, created once here and bound to an app in ``create_app``."""

from babel import Locale
from flask import has_request_context, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints, so that Alembic's batch mode on SQLite can alter them later.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Objects are not expired on commit: reading an attribute after the request's commit
# would otherwise open a second transaction, which on SQLite begins IMMEDIATE and holds
# the write lock until the request ends (measured under the exam's start burst).
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = None
login_manager.session_protection = "basic"
csrf = CSRFProtect()
babel = Babel()
#: Holds the failed-login counters only when RATELIMIT_STORAGE_URI names a shared storage
#: (Redis); otherwise they are kept in the database (auth/throttle.py).
limiter = Limiter(key_func=get_remote_address, default_limits=[])


#: Parsed once: Babel's Locale.parse scans every known locale name on each call.
_LOCALES = {"en": Locale.parse("en"), "zh_CN": Locale.parse("zh_CN")}


def select_locale() -> Locale:
    """The language chosen with the switcher (a cookie), else zh_CN.

    Babel reads "zh_CN" as zh_Hans_CN (it adds the script), so the catalogue lives in
    translations/zh_Hans_CN, where gettext looks for it."""
    chosen = request.cookies.get("lang") if has_request_context() else None
    return _LOCALES["en" if chosen == "en" else "zh_CN"]
