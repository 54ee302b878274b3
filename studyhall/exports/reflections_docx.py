"""The accepted reflections (心得体会) of a unit for a period as one .docx for the
inspection archive: each with its writer, unit, what it is about, when it was accepted
and whether it was marked 优秀, then the text as accepted (the accepted version, not a
later draft)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt
from flask_babel import format_datetime
from flask_babel import gettext as _


@dataclass
class AcceptedReflection:
    name: str
    unit: str
    about: str
    accepted_at: datetime | None
    excellent: bool
    body: str


def build_reflections_docx(title: str, subtitle: str, items: list[AcceptedReflection],
                           target) -> None:
    # Imported here: session_docx comes with the sessions package, whose routes import it.
    from studyhall.exports.session_docx import _set_fonts

    document = Document()
    _set_fonts(document)
    heading = document.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = heading.add_run(title)
    run.bold, run.font.size = True, Pt(18)
    document.add_paragraph(subtitle).alignment = WD_ALIGN_PARAGRAPH.CENTER
    if not items:
        document.add_paragraph(_("No reflection was accepted in this period."))
    for number, item in enumerate(items, start=1):
        document.add_heading(f"{number}. {item.about}", level=2)
        when = format_datetime(item.accepted_at, "yyyy-MM-dd") if item.accepted_at else ""
        line = _("%(name)s (%(unit)s), accepted %(when)s", name=item.name, unit=item.unit,
                 when=when)
        if item.excellent:
            line += _("; marked excellent")
        document.add_paragraph(line).runs[0].italic = True
        for paragraph in item.body.splitlines():
            if paragraph.strip():
                document.add_paragraph(paragraph.strip())
    document.save(target)
