"""Statistics: figures rolled up the organisation tree, item analysis and charts.

queries.py holds the exam figures (SQL aggregates over the expected participants fixed at
publication and the attempt that counts), items.py the item analysis (numpy/pandas on
one score matrix), routes.py the pages. Study and session figures add their own
``queries_*.py`` beside these and reuse ``studyhall.figures`` for every number shown.
"""

from flask import Blueprint

bp = Blueprint("stats", __name__)
