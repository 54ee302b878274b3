"""One form per staff screen of study: a material, an assignment's settings, its items,
its audience (the quizzes' audience form), reminders."""

from __future__ import annotations

from flask_babel import to_utc
from flask_wtf.file import FileField, MultipleFileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from studyhall.converters import MAX_ID
from studyhall.forms import Form, choices, lock_fields
from studyhall.i18n import lazy_gettext as _l
from studyhall.quizzes.forms import LOCAL_FORMATS, AudienceForm, to_local  # noqa: F401
from studyhall.study import materials
from studyhall.study.models import LABELS, Assignment, Material, MaterialKind


class MaterialForm(Form):
    kind = SelectField(_l("Kind"), choices=[])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    summary = TextAreaField(_l("Summary"), validators=[Length(max=1000)],
                            description=_l("One or two sentences shown in lists and on the "
                                           "reading page."))
    owner_unit_id = SelectField(_l("Owner unit"), coerce=int, choices=[],
                                description=_l("The people of this unit and its sub-units may "
                                               "read it; its managers manage it."))
    category = StringField(_l("Category"), validators=[Length(max=50)],
                           description=_l("Pick one or type a new one."))
    tags = StringField(_l("Tags"), validators=[Length(max=400)],
                       description=_l("Separated by commas or spaces, at most 10."))
    body = TextAreaField(_l("Text (Markdown)"), validators=[Length(max=200_000)],
                         render_kw={"rows": 16},
                         description=_l("Headings with #, lists with -, **bold**. Images: "
                                        "upload them below and write ![description](file "
                                        "name). Scripts, styles and outside images are "
                                        "removed."))
    images = MultipleFileField(_l("Images for the text"),
                               description=_l("PNG, JPEG, GIF or WebP."))
    file = FileField(_l("File"), description=_l("PDF, Word (.docx) or an image; checked by "
                                                "its content, not its name."))
    url = StringField(_l("Address"), validators=[Length(max=1000)],
                      description=_l("Starting with http:// or https://."))
    min_reading_minutes = IntegerField(
        _l("Minimum reading time (minutes)"), validators=[Optional(), NumberRange(min=0,
                                                                                   max=600)],
        description=_l("Empty: the estimate from the length (%(n)d Chinese characters a "
                       "minute).", n=materials.CHARS_PER_MINUTE))

    def __init__(self, *args, unit_choices=(), material: Material | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = choices((k.value, LABELS[k]) for k in MaterialKind)
        self.owner_unit_id.choices = choices(unit_choices)
        self.material = material
        if material is not None:
            # The kind is fixed once created: the edit form shows the fields of one kind.
            self.kind.data = material.kind.value
            self.kind.render_kw = {"disabled": True}

    @property
    def chosen_kind(self) -> MaterialKind:
        try:
            return MaterialKind(self.kind.data)
        except ValueError:
            return MaterialKind.TEXT

    @staticmethod
    def data_of(material: Material, tags: list[str]) -> dict:
        version = material.current_version
        custom = version.min_reading_seconds != version.estimated_seconds
        return {"kind": material.kind.value, "title": version.title, "summary": version.summary,
                "owner_unit_id": material.owner_unit_id,
                "category": material.category.name if material.category else "",
                "tags": " ".join(tags), "body": version.body if material.kind is MaterialKind.TEXT
                else "", "url": version.url or "",
                "min_reading_minutes": version.min_reading_seconds // 60 if custom else None}

    def validate_url(self, field):
        if self.chosen_kind in (MaterialKind.LINK, MaterialKind.VIDEO):
            try:
                materials.check_url(field.data)
            except materials.MaterialError as exc:
                raise ValidationError(str(exc)) from exc

    def validate_body(self, field):
        if self.chosen_kind is MaterialKind.TEXT and not (field.data or "").strip():
            raise ValidationError(_l("Write the text."))

    def validate_file(self, field):
        new = field.data and getattr(field.data, "filename", "")
        if self.chosen_kind is MaterialKind.FILE and not new and self.material is None:
            raise ValidationError(_l("Choose a file to upload."))

    def values(self) -> materials.MaterialValues:
        kind = self.chosen_kind
        upload = None
        if kind is MaterialKind.FILE and self.file.data and getattr(self.file.data, "filename", ""):
            upload = (self.file.data.filename, self.file.data.read())
        images = [(f.filename, f.read()) for f in (self.images.data or [])
                  if kind is MaterialKind.TEXT and getattr(f, "filename", "")]
        return materials.MaterialValues(
            kind=kind, title=self.title.data.strip(), owner_unit_id=self.owner_unit_id.data,
            summary=(self.summary.data or "").strip(), body=self.body.data or "",
            url=(self.url.data or "").strip() or None, category=self.category.data or "",
            tags=materials.split_tags(self.tags.data), upload=upload, images=images,
            min_reading_minutes=self.min_reading_minutes.data)


class AssignmentForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    instructions = TextAreaField(_l("Instructions"), validators=[Length(max=5000)],
                                 description=_l("Shown to the readers above the materials."))
    owner_unit_id = SelectField(_l("Owner unit"), coerce=int, choices=[],
                                description=_l("Its managers follow the assignment."))
    starts_at = DateTimeLocalField(_l("Starts at"), format=LOCAL_FORMATS,
                                   validators=[DataRequired(_l("Give the start."))])
    due_at = DateTimeLocalField(_l("Due at"), format=LOCAL_FORMATS,
                                validators=[DataRequired(_l("Give the due time."))])
    requires_reflection = BooleanField(_l("A reflection (心得体会) is required"))
    reflection_min_chars = IntegerField(
        _l("Minimum length of the reflection (Chinese characters)"), default=0,
        validators=[Optional(), NumberRange(min=0, max=20000)],
        description=_l("Punctuation and spaces are not counted."))

    def __init__(self, *args, unit_choices=(), locked=frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.owner_unit_id.choices = choices(unit_choices)
        lock_fields(self, locked, kwargs.get("data") or {})

    @staticmethod
    def data_of(assignment: Assignment) -> dict:
        return {"title": assignment.title, "instructions": assignment.instructions,
                "owner_unit_id": assignment.owner_unit_id,
                "starts_at": to_local(assignment.starts_at), "due_at": to_local(assignment.due_at),
                "requires_reflection": assignment.requires_reflection,
                "reflection_min_chars": assignment.reflection_min_chars}

    def validate_due_at(self, field):
        if self.starts_at.data and field.data and field.data <= self.starts_at.data:
            raise ValidationError(_l("The due time must be after the start."))

    def values(self, assignment: Assignment | None = None) -> dict:
        values = {"title": self.title.data.strip(), "instructions": self.instructions.data or "",
                  "owner_unit_id": self.owner_unit_id.data,
                  "requires_reflection": bool(self.requires_reflection.data),
                  "reflection_min_chars": (self.reflection_min_chars.data or 0)
                  if self.requires_reflection.data else 0}
        for name in ("starts_at", "due_at"):
            local = getattr(self, name).data
            stored = getattr(assignment, name) if assignment else None
            shown = to_local(stored)
            same = shown is not None and local in (shown, shown.replace(second=0, microsecond=0))
            values[name] = stored if same else to_utc(local).replace(tzinfo=None)
        return values


class AddMaterialForm(Form):
    material_id = IntegerField(validators=[DataRequired()])
    min_reading_minutes = IntegerField(_l("Minimum reading time here (minutes)"),
                                       validators=[Optional(), NumberRange(min=0, max=600)])


class AddQuizForm(Form):
    # An id past the database's range is refused here, not looked up (a 500 on PostgreSQL).
    quiz_id = IntegerField(validators=[DataRequired(), NumberRange(min=1, max=MAX_ID)])


class RemoveItemForm(Form):
    item_id = IntegerField(validators=[DataRequired()])
