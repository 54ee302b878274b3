"""Study: materials, assignments (学习任务), reading credit, checkpoints and reflections."""

from flask import Blueprint

bp = Blueprint("study", __name__)

# One routes module per line, so that parallel work never edits the same line.
