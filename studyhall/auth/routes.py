from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import bindparam, select

from studyhall.auth import bp, throttle
from studyhall.auth.forms import ChangePasswordForm, LoginForm
from studyhall.extensions import db, login_manager
from studyhall.model_helpers import utcnow
from studyhall.org.models import Person
from studyhall.urls import safe_next

login_manager.login_view = "auth.login"
login_manager.login_message = None
login_manager.session_protection = "basic"


#: Built once: every request of a signed-in user runs it.
_PERSON_BY_ID = select(Person).where(Person.id == bindparam("person_id"))


@login_manager.user_loader
def load_user(user_id: str) -> Person | None:
    """Sessions carry "<id>:<session_version>": a changed password or a deactivated
    account ends every session opened before."""
    person_id, _sep, version = user_id.partition(":")
    if not person_id.isdigit() or not version.isdigit():
        return None
    person = db.session.execute(_PERSON_BY_ID, {"person_id": int(person_id)}).scalar()
    if person is None or not person.is_active or person.session_version != int(version):
        return None
    return person


@bp.before_app_request
def require_password_change():
    """Until an initial or reset password is replaced, the only pages are these."""
    if (
        current_user.is_authenticated
        and current_user.must_change_password
        and request.endpoint not in ("auth.change_password", "auth.logout", "static",
                                     "main.set_language", "main.healthz")
    ):
        if _wants_json():
            return jsonify(ok=False, error="password_change",
                           message=_("Choose a new password in another tab; your answers are "
                                     "kept on this device.")), 401
        return redirect(url_for("auth.change_password"))
    return None


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


@login_manager.unauthorized_handler
def unauthorized():
    """Pages go to the login form; JSON clients (the exam page's autosave) get a 401 they
    can recognise, never a redirect to an HTML page that would look like success."""
    if _wants_json():
        return jsonify(ok=False, error="signed_out",
                       message=_("You have been signed out. Sign in again in another tab; "
                                 "your answers are kept on this device.")), 401
    return redirect(url_for("auth.login", next=request.full_path))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in with 账号 and password; failures are limited per account and per address."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        account = form.account.data
        wait = throttle.seconds_until_allowed(account)
        if wait:
            minutes = max(1, (wait + 59) // 60)
            flash(_("Too many failed attempts. Try again in %(minutes)d minutes.",
                    minutes=minutes), "error")
            return render_template("auth/login.html", form=form), 429
        person = db.session.scalar(select(Person).where(Person.account == account))
        if person is None or not person.is_active or not person.check_password(
            form.password.data
        ):
            throttle.record_failure(account)
            flash(_("The account or password is not correct."), "error")
            return render_template("auth/login.html", form=form), 200
        throttle.clear_account(account)
        person.last_login_at = utcnow()
        login_user(person, remember=form.remember.data)
        target = safe_next(request.args.get("next"))
        if person.must_change_password:
            # The page asked for (a check-in scanned before login) comes after the change.
            flash(_("Please choose your own password before you continue."), "info")
            return redirect(url_for("auth.change_password", next=target))
        return redirect(target or url_for("main.index"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm(current_user)
    if form.validate_on_submit():
        current_user.set_password(form.new_password.data)
        # The session version changed: sign in again on this device at once.
        login_user(current_user._get_current_object())
        flash(_("Your password has been changed."), "success")
        return redirect(safe_next(request.args.get("next")) or url_for("main.index"))
    return render_template("auth/change_password.html", form=form)
