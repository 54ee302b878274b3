"""A session's record sheet (会议记录/纪实表) as .docx, for the branch's files: kind, topic,
time, place, host, recorder (and the speaker of a 党课), 应到/实到/请假/缺席 with names,
the minutes, resolutions and photos, and lines to sign.

Built in code with python-docx rather than from a docxtpl template: the sheet has a
variable number of names and photos and minutes in Markdown, which code lays out
directly, with no Word file to keep in step with the code (docxtpl would add a template
and Jinja inside Word on top of python-docx itself). The minutes are laid out from
markdown-it's tokens (headings, paragraphs, list items), never as raw HTML.
"""

from __future__ import annotations

import io

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from flask_babel import format_datetime, pgettext
from flask_babel import gettext as _
from markdown_it import MarkdownIt

from studyhall.figures import rate
from studyhall.sessions.models import AttendanceStatus, SessionKind
from studyhall.sessions.queries_exports import RecordSheet

#: The typeface Chinese offices file documents in; Word falls back if it is missing.
EAST_ASIAN_FONT = "宋体"
PHOTO_WIDTH = Cm(14)
_markdown = MarkdownIt("commonmark", {"html": False})


def build_session_docx(sheet: RecordSheet) -> io.BytesIO:
    document = Document()
    _set_fonts(document)
    section = document.sections[0]
    section.left_margin = section.right_margin = Cm(2.2)
    session = sheet.session

    heading = document.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = heading.add_run(_("%(kind)s record", kind=session.kind.label))
    run.bold, run.font.size = True, Pt(18)
    unit_line = document.add_paragraph(session.owner_unit.name)
    unit_line.alignment = WD_ALIGN_PARAGRAPH.CENTER

    _facts_table(document, sheet)
    _names_table(document, sheet)

    document.add_heading(_("Minutes"), level=2)
    _add_markdown(document, session.minutes)
    if session.resolutions.strip():
        document.add_heading(_("Resolutions"), level=2)
        _add_markdown(document, session.resolutions)
    if sheet.photos or sheet.missing_photos:
        document.add_heading(_("Photos"), level=2)
        unreadable = list(sheet.missing_photos)
        for caption, data in sheet.photos:
            try:
                document.add_picture(io.BytesIO(data), width=PHOTO_WIDTH)
            except Exception:  # noqa: BLE001 - any image Word's reader cannot size
                unreadable.append(caption)
                continue
            document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            if caption:
                line = document.add_paragraph(caption)
                line.alignment = WD_ALIGN_PARAGRAPH.CENTER
        for name in unreadable:
            document.add_paragraph(_("Photo “%(name)s” could not be read.", name=name))

    document.add_paragraph()
    document.add_paragraph(_("Host (signature): ____________    "
                             "Recorder (signature): ____________"))
    if session.record_locked_at:
        document.add_paragraph(_("Record confirmed on %(when)s.",
                                 when=format_datetime(session.record_locked_at,
                                                      "yyyy-MM-dd HH:mm")))
    buffer = io.BytesIO()
    document.save(buffer)
    buffer.seek(0)
    return buffer


def _set_fonts(document) -> None:
    for name in ("Normal", "Heading 2", "Table Grid"):
        style = document.styles[name]
        style.font.name = EAST_ASIAN_FONT
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"),
                                                                EAST_ASIAN_FONT)
    document.styles["Normal"].font.size = Pt(11)


def facts(sheet: RecordSheet) -> list[tuple[str, str]]:
    """The label/value pairs at the top of the sheet, in order."""
    session = sheet.session
    start = format_datetime(session.starts_at, "yyyy-MM-dd HH:mm")
    end = format_datetime(session.ends_at, "HH:mm")
    place = session.place or ""
    if session.online_url:
        place = (place + " " if place else "") + _("online: %(url)s", url=session.online_url)
    pairs = [(_("Kind"), session.kind.label), (_("Topic"), session.topic),
             (_("Time"), f"{start}–{end}"), (_("Place"), place),
             (_("Host"), sheet.host), (_("Recorder"), sheet.recorder)]
    if session.kind is SessionKind.PARTY_LECTURE or session.speaker:
        pairs.append((_("Speaker"), session.speaker))
    leave_rule = (_("approved leave counts as expected") if session.leave_counts_as_expected
                  else _("approved leave is not counted as expected"))
    pairs.append((_("Attendance"), _(
        "Expected %(expected)d, attended %(attended)d (late %(late)d), on leave %(excused)d, "
        "absent %(absent)d; attendance rate %(rate)s (%(rule)s)",
        expected=sheet.expected, attended=sheet.attended,
        late=sheet.count(AttendanceStatus.LATE), excused=sheet.count(AttendanceStatus.EXCUSED),
        absent=sheet.count(AttendanceStatus.ABSENT),
        rate=rate(sheet.attended, sheet.denominator), rule=leave_rule)))
    return pairs


def _facts_table(document, sheet: RecordSheet) -> None:
    pairs = facts(sheet)
    table = document.add_table(rows=len(pairs), cols=2)
    table.style = "Table Grid"
    for row, (label, value) in zip(table.rows, pairs, strict=True):
        row.cells[0].width, row.cells[1].width = Cm(3), Cm(13.6)
        row.cells[0].text = label
        row.cells[0].paragraphs[0].runs[0].bold = True
        row.cells[1].text = value


def names_lines(sheet: RecordSheet) -> list[tuple[str, str]]:
    """(label with count, names) for attended, on leave (with reasons), absent and
    unmarked people; a group nobody is in is left out."""
    def names(*statuses, reasons=False) -> list[str]:
        found = [entry for s in statuses for entry in sheet.names.get(s, [])]
        return [f"{n}（{r}）" if reasons and r else n for n, _unit, r in found]

    groups = [
        ("attended", names(AttendanceStatus.PRESENT, AttendanceStatus.LATE)),
        ("late", names(AttendanceStatus.LATE)),
        ("excused", names(AttendanceStatus.EXCUSED, reasons=True)),
        ("absent", names(AttendanceStatus.ABSENT)),
        ("unmarked", names(None)),
    ]
    labels = {
        "attended": lambda n: _("Attended (%(n)d)", n=n),
        "late": lambda n: _("Of whom late (%(n)d)", n=n),
        "excused": lambda n: _("On leave (%(n)d)", n=n),
        "absent": lambda n: _("Absent (%(n)d)", n=n),
        "unmarked": lambda n: _("Not marked (%(n)d)", n=n),
    }
    lines = [(labels[key](len(people)), pgettext("names", ", ").join(people))
             for key, people in groups if people]
    return lines


def _names_table(document, sheet: RecordSheet) -> None:
    lines = names_lines(sheet)
    if not lines:
        return
    document.add_paragraph()
    table = document.add_table(rows=len(lines), cols=2)
    table.style = "Table Grid"
    for row, (label, names) in zip(table.rows, lines, strict=True):
        row.cells[0].width, row.cells[1].width = Cm(3), Cm(13.6)
        row.cells[0].text = label
        row.cells[0].paragraphs[0].runs[0].bold = True
        row.cells[1].text = names


def _add_markdown(document, text: str) -> None:
    """Markdown as Word paragraphs: headings bold, list items with a bullet or number,
    everything else a paragraph; inline marks are dropped, the words kept."""
    if not (text or "").strip():
        document.add_paragraph(_("(none)"))
        return
    tokens = _markdown.parse(text)
    lists: list[list] = []  # [ordered, next number]
    kind = None
    for token in tokens:
        if token.type in ("bullet_list_open", "ordered_list_open"):
            lists.append([token.type == "ordered_list_open", int(token.attrGet("start") or 1)])
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif token.type == "heading_open":
            kind = "heading"
        elif token.type == "list_item_open":
            kind = "item"
        elif token.type in ("code_block", "fence"):
            document.add_paragraph(token.content.rstrip("\n"))
        elif token.type == "inline":
            words = _inline_text(token)
            if kind == "heading":
                document.add_paragraph().add_run(words).bold = True
            elif kind == "item" and lists:
                ordered, number = lists[-1]
                marker = f"{number}. " if ordered else "• "
                if ordered:
                    lists[-1][1] += 1
                paragraph = document.add_paragraph(marker + words)
                paragraph.paragraph_format.left_indent = Cm(0.6 * len(lists))
            else:
                document.add_paragraph(words)
            kind = None if kind == "heading" else kind
        elif token.type == "list_item_close":
            kind = None


def _inline_text(token) -> str:
    parts = []
    for child in token.children or ():
        if child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type in ("text", "code_inline"):
            parts.append(child.content)
    return "".join(parts)
