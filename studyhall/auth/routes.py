from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from studyhall.auth import bp, login_sessions, throttle
from studyhall.auth.forms import ChangePasswordForm, LoginForm
from studyhall.auth.passwords import verify_login
from studyhall.database import reads_first, start_writing
from studyhall.errors import wants_json
from studyhall.extensions import db, login_manager
from studyhall.forms import ConfirmForm
from studyhall.model_helpers import utcnow
from studyhall.org.models import Person
from studyhall.urls import safe_next


@login_manager.user_loader
def load_user(session_id: str) -> Person | None:
    """The session cookie and the remember-me cookie carry a login session's id; a
    session ended by logout, a password change or a deactivation finds nobody."""
    return login_sessions.load_person(session_id)


@bp.teardown_app_request
def touch_login_session(_error=None):
    login_sessions.touch_after_request()


@bp.before_app_request
def require_password_change():
    """Until an initial or reset password is replaced, the only pages are these."""
    if (
        current_user.is_authenticated
        and current_user.must_change_password
        and request.endpoint not in ("auth.change_password", "auth.logout", "static",
                                     "main.set_language", "main.healthz")
    ):
        if wants_json():
            return jsonify(ok=False, error="password_change",
                           message=_("Choose a new password in another tab; your answers are "
                                     "kept on this device.")), 401
        return redirect(url_for("auth.change_password"))
    return None


@login_manager.unauthorized_handler
def unauthorized():
    """Pages go to the login form; JSON clients (the exam page's autosave) get a 401 they
    can recognise, never a redirect to an HTML page that would look like success."""
    if wants_json():
        return jsonify(ok=False, error="signed_out",
                       message=_("You have been signed out. Sign in again in another tab; "
                                 "your answers are kept on this device.")), 401
    return redirect(url_for("auth.login", next=request.full_path))


@bp.route("/login", methods=["GET", "POST"])
@reads_first
def login():
    """Log in with 账号 and password; failures are limited per account and per address.
    The password is checked before the transaction writes (on SQLite, outside the write
    lock), so logins at the start of an exam do not queue behind each other's hashing."""
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
        allowed = verify_login(person, form.password.data)
        start_writing()
        if not allowed:
            throttle.record_failure(account)
            flash(_("The account or password is not correct."), "error")
            return render_template("auth/login.html", form=form), 200
        throttle.clear_account(account)
        person.last_login_at = utcnow()
        login_sessions.sign_in(person, remember=form.remember.data)
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
    login_sessions.sign_out()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm(current_user)
    if form.validate_on_submit():
        person = current_user._get_current_object()
        person.set_password(form.new_password.data)
        # The new password ends every session; this browser carries on in a new one.
        login_sessions.restart_after_password_change(person)
        flash(_("Your password has been changed. Every other device has been signed out."),
              "success")
        return redirect(safe_next(request.args.get("next")) or url_for("main.index"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/account/sessions")
@login_required
def list_sessions():
    """The browsers where this person is signed in, to end those left open elsewhere."""
    return render_template("auth/sessions.html", rows=login_sessions.list_sessions(current_user),
                           current_id=login_sessions.current_session_id(), form=ConfirmForm(),
                           describe_device=login_sessions.describe_device)


@bp.route("/account/sessions/end-others", methods=["POST"])
@login_required
def end_other_sessions():
    if ConfirmForm().validate_on_submit():
        ended = login_sessions.end_other_sessions(current_user)
        flash(_("Other devices signed out: %(n)d.", n=ended), "success")
    return redirect(url_for("auth.list_sessions"))
