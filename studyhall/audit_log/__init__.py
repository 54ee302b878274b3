"""The audit log for administrators (/manage/audit): the entries studyhall/audit.py
records, newest first, filtered and exported, within the viewer's scope. Read only: no
route here changes or deletes an entry."""

from flask import Blueprint

bp = Blueprint("audit_log", __name__)
