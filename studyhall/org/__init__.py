from flask import Blueprint

bp = Blueprint("org", __name__)

from studyhall.org import routes_people, routes_roster, routes_units  # noqa: E402,F401
