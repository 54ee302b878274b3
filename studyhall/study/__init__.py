"""Study: materials, assignments (学习任务), reading credit, checkpoints and reflections."""

from flask import Blueprint

bp = Blueprint("study", __name__)

# One routes module per line, so that parallel work never edits the same line.
from studyhall.study import routes_assignments  # noqa: E402,F401,I001
from studyhall.study import routes_materials  # noqa: E402,F401,I001
from studyhall.study import routes_reflections  # noqa: E402,F401,I001
from studyhall.study import routes_reflections_review  # noqa: E402,F401,I001
from studyhall.study import routes_reading  # noqa: E402,F401,I001
from studyhall.study import routes_checkpoints  # noqa: E402,F401,I001
from studyhall.study import routes_record  # noqa: E402,F401,I001
