"""Role checks for routes. Object checks live in each domain's ``load_*_or_404``."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from studyhall.org.models import Role


def role_required(*roles: Role):
    """Logged in, and holding one of ``roles``; 403 otherwise."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


staff_required = role_required(Role.ADMIN, Role.SECRETARY)
admin_required = role_required(Role.ADMIN)
