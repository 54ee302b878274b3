"""StudyHall: policy and discipline study and assessment for schools and education bureaus.

The web package is ``studyhall`` rather than ``platform``: a package named ``platform``
shadows the standard-library module that SQLAlchemy and Flask call at import.
"""

from __future__ import annotations

import importlib
import os

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import get_locale
from werkzeug.middleware.proxy_fix import ProxyFix

from config import CONFIGS, ProductionConfig, instance_secret_key
from studyhall.converters import IdConverter
from studyhall.urls import carried_args


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


class StrictJSONProvider(DefaultJSONProvider):
    """Request bodies are read as standard JSON (issue 12, item 2): NaN and Infinity, a
    Python extension, are refused like any malformed body; so is a body nested too deep,
    for which the json module raises RecursionError, which ``request.get_json`` does not
    catch (a 500 for a few KB of ``[``)."""

    def loads(self, s, **kwargs):
        kwargs.setdefault("parse_constant", _refuse_constant)
        try:
            return super().loads(s, **kwargs)
        except RecursionError as exc:
            raise ValueError("JSON nested too deep") from exc


def create_app(config_class=None) -> Flask:
    if config_class is None:
        config_class = CONFIGS[os.environ.get("STUDYHALL_CONFIG", "default")]
    if config_class is ProductionConfig:
        ProductionConfig.check()
    app = Flask(__name__, template_folder="../templates", instance_relative_config=True)
    app.json = StrictJSONProvider(app)
    app.config.from_object(config_class)
    # Before any route is added: ids beyond what a database holds answer 404.
    app.url_map.converters["int"] = IdConverter
    if not app.config.get("SECRET_KEY"):
        # No SECRET_KEY given (development, make run): a random one kept in instance/.
        app.config["SECRET_KEY"] = instance_secret_key(app.instance_path)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        os.makedirs(app.instance_path, exist_ok=True)
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        # Behind nginx: the client's address and scheme come from the proxy's headers,
        # so failed-login limits count per client, not per proxy.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    _init_extensions(app)
    _register_blueprints(app)

    from studyhall import cli, errors, security, templating
    from studyhall.org.models import PoliticalGroup

    # Templates count the make-up of a unit by these groups (the report's words).
    app.jinja_env.globals["groups"] = PoliticalGroup
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["carried_args"] = carried_args
    errors.register(app)
    security.register(app)
    templating.register(app)
    cli.register(app)
    return app


def _init_extensions(app: Flask) -> None:
    from studyhall import database
    from studyhall.extensions import babel, csrf, db, limiter, login_manager, migrate, select_locale

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(app.root_path, "..", "migrations"),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    login_manager.init_app(app)
    database.configure(app)
    _init_compression(app)

    # Import every model so that Alembic's autogenerate sees the whole schema.
    from studyhall import audit, storage, uploads  # noqa: F401
    from studyhall.auth import models as auth_models  # noqa: F401
    from studyhall.bank import models as bank_models  # noqa: F401
    from studyhall.org import models  # noqa: F401
    from studyhall.quizzes import models as quiz_models  # noqa: F401
    from studyhall.sessions import models as session_models  # noqa: F401
    from studyhall.study import models as study_models  # noqa: F401


def _init_compression(app: Flask) -> None:
    """Compress pages, JSON and static files when no nginx in front does it (the paper's
    71 KB are 14 KB gzipped). Small replies, such as an answer save's, are left as they
    are: compressing them costs more than it saves."""
    from flask_compress import Compress

    app.config.setdefault("COMPRESS_MIMETYPES", [
        "text/html", "text/css", "text/javascript", "application/javascript",
        "application/json", "image/svg+xml"])
    app.config.setdefault("COMPRESS_MIN_SIZE", 1024)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    Compress(app)

    @app.after_request  # runs before Compress's: hooks run in reverse order
    def _read_static_files_whole(response):
        # A static file is sent from an open file; compressing it as a stream would leave
        # that file to the garbage collector. Ours are a few KB: read them, then compress.
        if request.endpoint == "static" and response.direct_passthrough:
            response.direct_passthrough = False
            response.make_sequence()
        return response


#: Each blueprint's package and the modules holding its views, in registration order. The
#: views are imported here, not by their package's __init__: importing a package's models or
#: queries must not pull in its views and all they import (exports → sessions.models →
#: sessions' views → exports was an import cycle that only the app's own order hid).
VIEWS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("main", ("routes",)),
    ("auth", ("routes",)),
    ("org", ("routes_people", "routes_roster", "routes_units")),
    ("bank", ("routes", "routes_files")),
    ("quizzes", ("routes_manage", "routes_manage_results", "routes_take")),
    ("study", ("routes_assignments", "routes_materials", "routes_reflections",
               "routes_reflections_review", "routes_reading", "routes_checkpoints",
               "routes_record")),
    ("sessions", ("routes_exports", "routes_manage", "routes_manage_record", "routes_member",
                  "routes_plans", "routes_reflections", "routes_settings", "routes_checkin")),
    ("stats", ("routes", "routes_archive", "routes_study")),
    ("audit_log", ("routes",)),
)


def _register_blueprints(app: Flask) -> None:
    for package, modules in VIEWS:
        for module in modules:
            importlib.import_module(f"studyhall.{package}.{module}")
        app.register_blueprint(importlib.import_module(f"studyhall.{package}").bp)
