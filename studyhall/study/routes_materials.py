"""Materials: the staff library (list, create, edit, archive, versions) and the file
routes that serve a material's file or images to those allowed to see it."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from studyhall import storage
from studyhall.auth.decorators import staff_required
from studyhall.auth.scope import load_unit_or_404
from studyhall.extensions import db
from studyhall.forms import ConfirmForm
from studyhall.org.queries import get_units_for_picker
from studyhall.storage import StoredFile, UploadError
from studyhall.study import bp, materials, permissions, queries
from studyhall.study.forms import MaterialForm
from studyhall.study.models import LABELS, MaterialKind, MaterialVersion

MATERIALS_PER_PAGE = 20


@bp.app_template_filter("material_blocks")
def material_blocks(body_html: str) -> list[str]:
    return materials.block_html(body_html)


def _filters() -> queries.MaterialFilters:
    args = request.args
    return queries.MaterialFilters(q=(args.get("q") or "").strip()[:100],
                                   kind=args.get("kind", ""),
                                   category_id=args.get("category", type=int),
                                   tag=(args.get("tag") or "")[:30],
                                   archived=args.get("archived") == "1")


@bp.route("/manage/study/materials/")
@staff_required
def list_materials():
    filters = _filters()
    page = db.paginate(queries.query_materials(current_user, filters),
                       per_page=MATERIALS_PER_PAGE, error_out=False)
    return render_template(
        "study/materials/material_list.html", page=page, filters=filters,
        tags=queries.get_tags([m.id for m in page.items]), categories=queries.get_categories(),
        all_tags=queries.get_all_tags(), kinds=[(k.value, LABELS[k]) for k in MaterialKind])


def _form(material=None, data=None) -> MaterialForm:
    return MaterialForm(data=data, unit_choices=get_units_for_picker(current_user),
                        material=material)


def _save(material, form):
    """Save through materials.save_material; on a refusal re-render with the reason."""
    values = form.values()
    if material is None or values.owner_unit_id != material.owner_unit_id:
        load_unit_or_404(current_user, values.owner_unit_id)
    try:
        saved = materials.save_material(current_user, material, values)
    except (materials.MaterialError, UploadError) as exc:
        db.session.rollback()
        if values.kind is MaterialKind.FILE:
            field = form.file
        else:
            field = form.images if isinstance(exc, UploadError) else form.url
        field.errors = [*field.errors, str(exc)]
        return None
    return saved


@bp.route("/manage/study/materials/new", methods=["GET", "POST"])
@staff_required
def create_material():
    form = _form(data={"kind": request.args.get("kind", "text")})
    if form.validate_on_submit() and (material := _save(None, form)) is not None:
        flash(_("Material saved."), "success")
        return redirect(url_for("study.show_material", material_id=material.id))
    return render_template("study/materials/material_edit.html", form=form, material=None,
                           categories=queries.get_categories(), kind=form.chosen_kind)


@bp.route("/manage/study/materials/<int:material_id>")
@staff_required
def show_material(material_id: int):
    """The material as readers see it, its versions, and the assignments that use it."""
    material = permissions.load_material_or_404(current_user, material_id)
    version_id = request.args.get("version", type=int)
    version = material.current_version
    if version_id:
        version = permissions.load_version_or_404(current_user, material.id, version_id)
    return render_template(
        "study/materials/material_show.html", material=material, version=version,
        tags=queries.get_tags([material.id]).get(material.id, []),
        can_manage=permissions.can_manage_material(current_user, material),
        assignments=queries.get_material_assignments(material, current_user),
        assigned=materials.is_assigned(material), form=ConfirmForm(),
        rate=materials.CHARS_PER_MINUTE)


@bp.route("/manage/study/materials/<int:material_id>/edit", methods=["GET", "POST"])
@staff_required
def edit_material(material_id: int):
    """Edit in place until assigned; afterwards each save is a new version."""
    material = permissions.load_managed_material_or_404(current_user, material_id)
    tags = queries.get_tags([material.id]).get(material.id, [])
    form = _form(material, MaterialForm.data_of(material, tags))
    if form.validate_on_submit() and _save(material, form) is not None:
        flash(_("Material saved."), "success")
        return redirect(url_for("study.show_material", material_id=material.id))
    return render_template("study/materials/material_edit.html", form=form, material=material,
                           categories=queries.get_categories(), kind=material.kind,
                           assigned=materials.is_assigned(material))


@bp.route("/manage/study/materials/<int:material_id>/archive", methods=["POST"])
@staff_required
def archive_material(material_id: int):
    material = permissions.load_managed_material_or_404(current_user, material_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    materials.set_archived(material, not material.is_archived)
    flash(_("Archived: it can no longer be assigned.") if material.is_archived
          else _("Back in the library."), "success")
    return redirect(url_for("study.show_material", material_id=material.id))


@bp.route("/study/materials/<int:material_id>/versions/<int:version_id>/file")
@login_required
def material_file(material_id: int, version_id: int):
    """A version's uploaded file, for those who may see the material."""
    version: MaterialVersion = permissions.load_version_or_404(current_user, material_id,
                                                               version_id)
    if version.file is None:
        abort(404)
    return storage.file_response(version.file)


@bp.route("/study/materials/<int:material_id>/images/<int:file_id>/<signature>")
@login_required
def material_image(material_id: int, file_id: int, signature: str):
    """An image of a material's text: the address is signed for this material when the
    text is saved, so a text cannot show another material's files."""
    permissions.load_material_or_404(current_user, material_id)
    path = f"/study/materials/{material_id}/images/{file_id}/{signature}"
    stored = db.session.get(StoredFile, file_id)
    if materials.parse_image_path(path) is None or stored is None \
            or stored.content_type not in storage.IMAGE_TYPES:
        abort(404)
    return storage.file_response(stored)
