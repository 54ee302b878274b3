from flask import Blueprint

bp = Blueprint("quizzes", __name__)

from studyhall.quizzes import routes_manage, routes_manage_results, routes_take  # noqa: E402,F401
