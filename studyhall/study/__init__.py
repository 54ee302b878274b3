"""Study: materials, assignments (学习任务), reading credit, checkpoints and reflections."""

from flask import Blueprint

bp = Blueprint("study", __name__)

from studyhall.study import routes_reading  # noqa: E402,F401  # isort: skip
from studyhall.study import routes_checkpoints  # noqa: E402,F401  # isort: skip
from studyhall.study import routes_record  # noqa: E402,F401  # isort: skip
