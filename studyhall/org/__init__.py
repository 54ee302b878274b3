from flask import Blueprint

bp = Blueprint("org", __name__)
