"""Checkpoints for staff: placing bank questions in a material's text, and how the
readers of an assignment answered them."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import HiddenField, IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange

from studyhall.auth.decorators import staff_required
from studyhall.auth.scope import in_scope
from studyhall.converters import MAX_ID
from studyhall.extensions import db
from studyhall.forms import ConfirmForm, Form, choices
from studyhall.i18n import lazy_gettext as _l
from studyhall.study import bp, checkpoints
from studyhall.study.models import (
    Material,
    MaterialCheckpoint,
    MaterialVersion,
)
from studyhall.study.permissions import load_assignment_or_404, load_managed_material_or_404

SEARCH_RESULTS = 20


class PlaceCheckpointForm(Form):
    # An id past the database's range is refused here, not sent to the database (a 500).
    question_id = IntegerField(validators=[InputRequired(), NumberRange(min=1, max=MAX_ID)])
    anchor = SelectField(_l("Where in the text"), coerce=int, validate_choice=False)
    q = HiddenField()


def _anchor_choices(material: Material, version: MaterialVersion) -> list:
    if not checkpoints.has_blocks(material, version):
        return choices([(0, _("After the material"))])
    excerpts = checkpoints.block_excerpts(version)
    pairs = [(0, _("Before the text"))] + [
        (n, _("After paragraph %(n)d: %(text)s", n=n, text=text))
        for n, text in enumerate(excerpts, start=1)]
    return choices(pairs)


@bp.route("/manage/study/materials/<int:material_id>/checkpoints")
@staff_required
def manage_checkpoints(material_id: int):
    """The checkpoints of the material's current version, and bank questions to place."""
    material = load_managed_material_or_404(current_user, material_id)
    version = material.current_version
    if version is None:
        abort(404)
    search, kind = (request.args.get("q") or "").strip()[:100], request.args.get("type", "")
    found = db.session.scalars(checkpoints.query_placeable_questions(search, kind)
                               .limit(SEARCH_RESULTS)).all() if search or kind else []
    anchors = _anchor_choices(material, version)
    forms = []
    for question in found:
        form = PlaceCheckpointForm(formdata=None, question_id=question.id, q=search)
        form.anchor.choices = anchors
        forms.append((question, form))
    labels = {choice.value: choice.label for choice in anchors}
    placed = [(cp, checkpoints.question_of(cp), labels.get(cp.anchor, labels[anchors[-1].value]))
              for cp in version.checkpoints]
    return render_template("study/reading/checkpoints_manage.html", material=material,
                           version=version, placed=placed, found=forms, search=search,
                           kind=kind, types=checkpoints.OBJECTIVE_TYPES, form=ConfirmForm())


@bp.route("/manage/study/materials/<int:material_id>/checkpoints", methods=["POST"])
@staff_required
def place_checkpoint(material_id: int):
    material = load_managed_material_or_404(current_user, material_id)
    version = material.current_version
    if version is None:
        abort(404)
    form = PlaceCheckpointForm()
    form.anchor.choices = _anchor_choices(material, version)
    if not form.validate_on_submit():
        abort(400)
    try:
        checkpoints.place_checkpoint(version, form.question_id.data, form.anchor.data,
                                     current_user.id)
        flash(_("The question is placed in the text."), "success")
    except checkpoints.CheckpointError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("study.manage_checkpoints", material_id=material.id))


@bp.route("/manage/study/materials/<int:material_id>/checkpoints/<int:checkpoint_id>/remove",
          methods=["POST"])
@staff_required
def remove_checkpoint(material_id: int, checkpoint_id: int):
    material = load_managed_material_or_404(current_user, material_id)
    checkpoint = db.session.get(MaterialCheckpoint, checkpoint_id)
    if checkpoint is None or checkpoint.version.material_id != material.id:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        checkpoints.remove_checkpoint(checkpoint)
        flash(_("The checkpoint is removed."), "success")
    except checkpoints.CheckpointError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("study.manage_checkpoints", material_id=material.id))


@bp.route("/manage/study/assignments/<int:assignment_id>/checkpoints")
@staff_required
def checkpoint_results(assignment_id: int):
    """How each reader (in the viewer's scope) answered the assignment's checkpoints."""
    assignment = load_assignment_or_404(current_user, assignment_id)
    results = checkpoints.get_checkpoint_results(assignment, in_scope(current_user))
    return render_template("study/reading/checkpoint_results.html", assignment=assignment,
                           results=results)

