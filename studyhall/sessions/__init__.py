"""Study sessions and attendance: 三会一课, 主题党日, 中心组学习; check-in, leave, minutes,
evidence; study plans."""

from flask import Blueprint

bp = Blueprint("sessions", __name__)

from studyhall.sessions import routes_exports  # noqa: E402,F401,I001
from studyhall.sessions import routes_manage  # noqa: E402,F401
from studyhall.sessions import routes_manage_record  # noqa: E402,F401
from studyhall.sessions import routes_member  # noqa: E402,F401
from studyhall.sessions import routes_plans  # noqa: E402,F401
from studyhall.sessions import routes_reflections  # noqa: E402,F401
from studyhall.sessions import routes_settings  # noqa: E402,F401
from studyhall.sessions import routes_checkin  # noqa: E402,F401
