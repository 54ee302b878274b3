"""Writes on materials: create and edit (a new version once assigned), Markdown made safe,
uploaded files checked by content, and the reading estimate.

Markdown is rendered by markdown-it-py with raw HTML off, then cleaned by nh3 with a short
list of tags: no script or style, no style or event attributes, links only to http(s),
and images only from our own storage (a URL signed for this material, so a body cannot
point at another material's files). The HTML is made once, when saved, and split into
top-level blocks so checkpoint questions can stand between them.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import io
import math
import re
import zipfile
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import nh3
import sqlalchemy as sa
from defusedxml import DefusedXmlException, ElementTree
from flask import current_app
from markdown_it import MarkdownIt

from studyhall import storage
from studyhall.extensions import db
from studyhall.i18n import lazy_gettext as _l
from studyhall.org.models import Person
from studyhall.storage import StoredFile, UploadError
from studyhall.study.models import (
    Assignment,
    AssignmentItem,
    AssignmentStatus,
    Material,
    MaterialCategory,
    MaterialCheckpoint,
    MaterialKind,
    MaterialVersion,
    material_tag,
)
from studyhall.study.text import count_length

#: The reading estimate's rate, stated on every page that shows an estimate.
CHARS_PER_MINUTE = 300
#: Top-level blocks of a body's HTML are joined with this (added after cleaning, so no
#: author can write it: raw HTML is off and nh3 drops comments).
BLOCK_SEP = "\n<!--block-->\n"
MAX_TAGS = 10
TAG_SPLIT = re.compile(r"[\s,，、;；]+")

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "s",
    "del", "blockquote", "code", "pre", "ul", "ol", "li", "a", "img", "table", "thead",
    "tbody", "tr", "th", "td", "sup", "sub",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}
_IMAGE_PATH = re.compile(r"^/study/materials/(\d+)/images/(\d+)/([0-9a-f]{16})$")

_markdown = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


class MaterialError(ValueError):
    """A change refused; the message says why."""


# --- Markdown ---------------------------------------------------------------------------

def image_signature(material_id: int, file_id: int) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"material-image:{material_id}:{file_id}".encode(),
                    hashlib.sha256).hexdigest()[:16]


def image_path(material_id: int, file_id: int) -> str:
    return f"/study/materials/{material_id}/images/{file_id}/" \
        f"{image_signature(material_id, file_id)}"


def parse_image_path(url: str) -> tuple[int, int] | None:
    """(material id, file id) of a correctly signed image URL, else None."""
    found = _IMAGE_PATH.match(url or "")
    if not found:
        return None
    material_id, file_id = int(found[1]), int(found[2])
    if not hmac.compare_digest(found[3], image_signature(material_id, file_id)):
        return None
    return material_id, file_id


def _keep_relative(url: str) -> str | None:
    """Relative URLs survive only as our own signed image addresses."""
    return url if parse_image_path(url) else None


def _filter_attribute(tag: str, name: str, value: str) -> str | None:
    """An image's address must be our own storage's, whatever the scheme."""
    if tag == "img" and name == "src" and not parse_image_path(value):
        return None
    return value


def clean_html(fragment: str) -> str:
    return nh3.clean(fragment, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     attribute_filter=_filter_attribute,
                     clean_content_tags={"script", "style"}, url_schemes={"http", "https"},
                     url_relative=_keep_relative, link_rel="noopener noreferrer nofollow")


def render_markdown(text: str, material_id: int, images: dict[str, int]) -> str:
    """Markdown → cleaned HTML blocks joined by BLOCK_SEP. ``images`` maps the names an
    author may write as an image's address (an uploaded image's file name) to stored
    file ids; any other image becomes its alt text."""
    env = {"material_id": material_id, "images": images}
    tokens = _markdown.parse(text or "", env)
    blocks, start, depth = [], 0, 0
    for i, token in enumerate(tokens):
        depth += token.nesting
        if depth == 0:
            blocks.append(_render_tokens(tokens[start:i + 1], env))
            start = i + 1
    return BLOCK_SEP.join(b for b in (clean_html(b).strip() for b in blocks) if b)


def _render_tokens(tokens, env) -> str:
    for token in tokens:
        for child in token.children or ():
            if child.type == "image":
                _resolve_image(child, env)
    return _markdown.renderer.render(tokens, _markdown.options, env)


def _resolve_image(token, env) -> None:
    """Point an image at our storage, or turn it into its alt text."""
    src = token.attrGet("src") or ""
    # markdown-it percent-encodes addresses: 图1.png arrives as %E5%9B%BE1.png.
    file_id = env["images"].get(unquote(src))
    signed = parse_image_path(src)
    if file_id is not None:
        token.attrSet("src", image_path(env["material_id"], file_id))
    elif signed and signed[0] == env["material_id"] and signed[1] in env["images"].values():
        pass
    else:
        alt = "".join(c.content for c in token.children or ()) or token.content
        token.type, token.tag, token.attrs, token.children = "text", "", {}, None
        token.content = f"[{alt}]" if alt else ""


def block_html(body_html: str) -> list[str]:
    """The top-level blocks of a version's HTML (for checkpoints between them)."""
    return [b for b in (body_html or "").split(BLOCK_SEP) if b]


def plain_text(body_html: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", body_html or ""))


# --- Reading estimate -------------------------------------------------------------------

def estimate_seconds(chars: int) -> int:
    """字数 (study.text.count_length) → whole minutes at CHARS_PER_MINUTE (at least one
    for any text), in seconds."""
    return math.ceil(chars / CHARS_PER_MINUTE) * 60 if chars else 0


# --- DOCX text --------------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
DOCX_MAX_XML = 20 * 1024 * 1024


def docx_paragraphs(data: bytes) -> list[str]:
    """The paragraphs of a .docx already accepted by storage.sniff_type (which bounds the
    archive's sizes), read with defusedxml so entities cannot expand."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo("word/document.xml")
            if info.file_size > DOCX_MAX_XML:
                raise UploadError(_l("The Word document's text is too long."))
            root = ElementTree.fromstring(archive.read(info))
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, DefusedXmlException,
            ValueError) as exc:
        if isinstance(exc, UploadError):
            raise
        raise UploadError(_l("The Word document could not be read: save it again as .docx "
                             "or upload a PDF.")) from exc
    paragraphs = []
    for p in root.iter(f"{_W}p"):
        text = "".join(node.text or "" for node in p.iter()
                       if node.tag == f"{_W}t").strip()
        if text:
            paragraphs.append(text)
    return paragraphs


# --- Saving -----------------------------------------------------------------------------

@dataclass
class MaterialValues:
    """What the edit form gives (already validated)."""

    kind: MaterialKind
    title: str
    owner_unit_id: int
    summary: str = ""
    body: str = ""
    url: str | None = None
    category: str = ""
    tags: list[str] = field(default_factory=list)
    #: The author's minimum reading time, or None for the estimate.
    min_reading_minutes: int | None = None
    #: A new file (kind FILE), and new images for a text body: (name, bytes) pairs.
    upload: tuple[str, bytes] | None = None
    images: list[tuple[str, bytes]] = field(default_factory=list)


def split_tags(text: str) -> list[str]:
    tags = [t.strip()[:30] for t in TAG_SPLIT.split(text or "") if t.strip()]
    return list(dict.fromkeys(tags))[:MAX_TAGS]


def check_url(url: str) -> str:
    """An http(s) address with a host, or MaterialError."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or len(url) > 1000:
        raise MaterialError(_l("Give an address starting with http:// or https://."))
    return url


def is_assigned(material: Material) -> bool:
    """Whether a published (or closed) assignment gives this material to readers."""
    return db.session.scalar(sa.select(sa.exists().where(
        AssignmentItem.material_id == material.id,
        AssignmentItem.assignment_id == Assignment.id,
        Assignment.status != AssignmentStatus.DRAFT))) or False


def save_material(actor: Person, material: Material | None, values: MaterialValues) -> Material:
    """Create a material, or edit one: in place while no assignment has given it out,
    as a new version afterwards (its readers keep the version they read).

    :raises MaterialError, UploadError: with the reason.
    """
    if material is None:
        material = Material(kind=values.kind, owner_unit_id=values.owner_unit_id,
                            created_by_id=actor.id)
        db.session.add(material)
        db.session.flush()
        previous, version = None, None
    else:
        previous = material.current_version
        version = None if is_assigned(material) else previous
        material.owner_unit_id = values.owner_unit_id
    if version is None:
        number = (previous.number + 1) if previous else 1
        version = MaterialVersion(material_id=material.id, number=number, created_by_id=actor.id,
                                  title=values.title)
        if previous is not None:
            _carry_over(previous, version)
        db.session.add(version)
    with db.session.no_autoflush:
        material.category_id = _category_id(values.category)
        _fill_version(actor, material, version, values)
    db.session.flush()
    material.current_version_id = version.id
    material.current_version = version
    _set_tags(material, values.tags)
    return material


def _carry_over(previous: MaterialVersion, version: MaterialVersion) -> None:
    """A new version starts from the previous one: its file, and its checkpoints."""
    version.file_id, version.body, version.body_html = \
        previous.file_id, previous.body, previous.body_html
    version.url = previous.url
    for cp in previous.checkpoints:
        version.checkpoints.append(MaterialCheckpoint(
            position=cp.position, anchor=cp.anchor, question_id=cp.question_id,
            type=cp.type, config=cp.config))


def _fill_version(actor, material: Material, version: MaterialVersion,
                  values: MaterialValues) -> None:
    version.title, version.summary = values.title, values.summary
    kind = material.kind
    if kind is MaterialKind.TEXT:
        images = _text_images(actor, material, version, values.images)
        version.body = values.body
        version.body_html = render_markdown(values.body, material.id, images)
        chars = count_length(plain_text(version.body_html))
    elif kind is MaterialKind.FILE:
        chars = _fill_file(actor, version, values.upload)
    else:
        version.url = check_url(values.url or "")
        version.body, version.body_html = "", ""
        chars = 0
    version.char_count = chars
    version.estimated_seconds = estimate_seconds(chars)
    version.min_reading_seconds = (values.min_reading_minutes * 60
                                   if values.min_reading_minutes is not None
                                   else version.estimated_seconds)


def _text_images(actor, material, version, uploads) -> dict[str, int]:
    """Names an author may use as image addresses: images uploaded now, and those the
    version already showed (by their stored file names)."""
    known = {fid for mid, fid in (parse_image_path(m) or (0, 0) for m in
                                  re.findall(r'src="([^"]+)"', version.body_html or ""))
             if mid == material.id}
    images = {f.filename: f.id for f in db.session.scalars(
        sa.select(StoredFile).where(StoredFile.id.in_(known)))}
    for name, data in uploads:
        stored = storage.save_file(data, name, actor, allowed=storage.IMAGE_TYPES)
        images[name.split("/")[-1].split("\\")[-1]] = stored.id
        images[stored.filename] = stored.id
    return images


def _fill_file(actor, version: MaterialVersion, upload) -> int:
    if upload is None:
        if version.file_id is None:
            raise MaterialError(_l("Choose a file to upload."))
        return version.char_count
    name, data = upload
    stored = storage.save_file(data, name, actor)
    version.file_id, version.file = stored.id, stored
    version.body, version.body_html = "", ""
    if stored.content_type == storage.DOCX:
        paragraphs = docx_paragraphs(data)
        version.body = "\n\n".join(paragraphs)
        version.body_html = BLOCK_SEP.join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return count_length(version.body)


def _category_id(name: str) -> int | None:
    name = (name or "").strip()[:50]
    if not name:
        return None
    category = db.session.scalar(sa.select(MaterialCategory).where(MaterialCategory.name == name))
    if category is None:
        category = MaterialCategory(name=name)
        db.session.add(category)
        db.session.flush()
    return category.id


def _set_tags(material: Material, tags: list[str]) -> None:
    db.session.execute(sa.delete(material_tag).where(material_tag.c.material_id == material.id))
    if tags:
        db.session.execute(sa.insert(material_tag),
                           [{"material_id": material.id, "tag": t} for t in tags])


def set_archived(material: Material, archived: bool) -> None:
    """Archived materials leave the library and cannot be assigned again; assignments
    that gave them out keep them."""
    material.is_archived = archived


__all__ = ["BLOCK_SEP", "CHARS_PER_MINUTE", "MaterialError", "MaterialValues", "UploadError",
           "block_html", "estimate_seconds", "image_path", "parse_image_path",
           "render_markdown", "save_material", "set_archived", "split_tags"]
