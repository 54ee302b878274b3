"""Study sessions and attendance: 三会一课, 主题党日, 中心组学习; check-in, leave, minutes,
evidence; study plans."""

from flask import Blueprint

bp = Blueprint("sessions", __name__)
