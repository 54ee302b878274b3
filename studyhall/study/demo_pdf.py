"""A small PDF writer for the demo's study material: Chinese text on A5 pages, with no
library and no font file.

The text uses STSong-Light, one of the Adobe-GB1 fonts every PDF reader knows without
embedding (pdf.js, vendored here, ships the CMaps for it), addressed through the
UniGB-UCS2-H encoding: two bytes per character, its Unicode code point. A ToUnicode map
makes the text searchable and copyable. Lines are broken by width: a Chinese character
is one em, a Latin character or digit half of one.
"""

from __future__ import annotations

import zlib

#: A5 in points: on a phone's width the text stays readable without zooming.
PAGE_W, PAGE_H = 420, 595
MARGIN = 40
TITLE_SIZE, BODY_SIZE, LEADING = 16, 13, 1.7
FONT = "STSong-Light"


def _width(ch: str, size: float) -> float:
    return size * (0.5 if ord(ch) < 0x2E80 else 1.0)


def _wrap(text: str, size: float, width: float) -> list[str]:
    lines, line, used = [], "", 0.0
    for ch in text:
        w = _width(ch, size)
        if used + w > width and line:
            lines.append(line)
            line, used = "", 0.0
        line += ch
        used += w
    return lines + [line] if line else lines or [""]


def _hex(text: str) -> str:
    return "<" + "".join(f"{ord(ch):04X}" for ch in text if ord(ch) <= 0xFFFF) + ">"


def _layout(title: str, paragraphs: list[str]) -> list[list[tuple[float, float, float, str]]]:
    """Pages of (x, y, size, line)."""
    width = PAGE_W - 2 * MARGIN
    pages: list[list[tuple[float, float, float, str]]] = [[]]
    y = PAGE_H - MARGIN - TITLE_SIZE
    for line in _wrap(title, TITLE_SIZE, width):
        x = (PAGE_W - sum(_width(c, TITLE_SIZE) for c in line)) / 2
        pages[-1].append((x, y, TITLE_SIZE, line))
        y -= TITLE_SIZE * LEADING
    y -= BODY_SIZE
    for paragraph in paragraphs:
        # A paragraph starts with two ideographic spaces, as Chinese documents do.
        for line in _wrap("\u3000\u3000" + paragraph, BODY_SIZE, width):
            if y < MARGIN:
                pages.append([])
                y = PAGE_H - MARGIN - BODY_SIZE
            pages[-1].append((MARGIN, y, BODY_SIZE, line))
            y -= BODY_SIZE * LEADING
        y -= BODY_SIZE * 0.5
    return pages


def _to_unicode(text: str) -> bytes:
    highs = sorted({ord(ch) >> 8 for ch in text if ord(ch) <= 0xFFFF})
    ranges = "".join(f"<{h:02X}00> <{h:02X}FF> <{h:02X}00>\n" for h in highs)
    return ("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
            "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
            f"{len(highs)} beginbfrange\n{ranges}endbfrange\n"
            "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n").encode()


def make_pdf(title: str, paragraphs: list[str]) -> bytes:
    """An A5 PDF of ``title`` (centred) and ``paragraphs`` (indented, wrapped)."""
    pages = _layout(title, paragraphs)
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    def stream(data: bytes, extra: str = "") -> bytes:
        packed = zlib.compress(data)
        return (f"<< /Length {len(packed)} /Filter /FlateDecode {extra}>>\nstream\n"
                .encode() + packed + b"\nendstream")

    catalog = add(b"")  # filled in below, once the page tree's number is known
    descriptor = add(f"<< /Type /FontDescriptor /FontName /{FONT} /Flags 6 "
                     "/FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 "
                     "/Descent -120 /CapHeight 880 /StemV 93 >>".encode())
    cid_font = add(f"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /{FONT} "
                   "/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> "
                   f"/FontDescriptor {descriptor} 0 R /DW 1000 /W [1 95 500] >>".encode())
    all_text = title + "".join(paragraphs) + "\u3000"
    to_unicode = add(stream(_to_unicode(all_text)))
    font = add(f"<< /Type /Font /Subtype /Type0 /BaseFont /{FONT}-UniGB-UCS2-H "
               f"/Encoding /UniGB-UCS2-H /DescendantFonts [{cid_font} 0 R] "
               f"/ToUnicode {to_unicode} 0 R >>".encode())
    tree = len(objects) + 1 + 2 * len(pages)
    kids = []
    for lines in pages:
        ops = "".join(f"BT /F1 {size} Tf {int(x)} {int(y)} Td {_hex(line)} Tj ET\n"
                      for x, y, size, line in lines)
        content = add(stream(ops.encode()))
        kids.append(add(f"<< /Type /Page /Parent {tree} 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] "
                        f"/Resources << /Font << /F1 {font} 0 R >> >> "
                        f"/Contents {content} 0 R >>".encode()))
    assert add(f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] "
               f"/Count {len(kids)} >>".encode()) == tree
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {tree} 0 R >>".encode()

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root {catalog} 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)
