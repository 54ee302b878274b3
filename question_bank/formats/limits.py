"""Limits on what a file may make the reader do, checked before the reader does it.

A spreadsheet is a zip of XML. python-calamine builds a dense grid from the first to the
last cell that holds a value, so two values at A1 and XFD1048576 make it ask for 512 GiB
and the process aborts (an allocation failure cannot be caught); a 2 MB zip can unpack to
gigabytes. So, before calamine opens a workbook (``check_workbook``) and before it reads
a sheet (``WorkbookCheck.check_sheet``):

- every part of the zip is inflated here, in chunks and never kept, counting the real
  bytes (the sizes in the zip's directory may lie): the total, and each part's ratio to
  its compressed size, must stay within the limits;
- the sheet's XML is parsed as a stream (defusedxml's parser, no tree kept) to find its
  declared ``<dimension>`` and the real last row and column that hold a value: the grid
  calamine would build must fit the limits.

A legacy .xls (BIFF records in an OLE2 compound file) is held to ``max_xls_bytes``, and
its workbook stream is walked record by record (``check_xls``) for the last row and
column of every sheet that hold a value, before calamine reads it.

Text files (CSV) get the same row and cell-length limits while they are read.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from question_bank.errors import QuestionBankError

MIB = 1024 * 1024
XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0"


@dataclass(frozen=True)
class ReadLimits:
    """How much a file may hold. The defaults keep one read well under 1 GB of memory
    whatever the file; an application lowers ``max_rows`` for what it can preview."""

    #: Rows of a sheet or CSV (up to the last one holding a value), or questions of a
    #: text format.
    max_rows: int = 1_048_576
    #: Columns of a sheet (up to the last one holding a value).
    max_columns: int = 256
    #: Cells of the grid from A1 to the last row and column, which calamine allocates.
    max_cells: int = 5_000_000
    #: Characters in one cell (Excel's own limit).
    max_cell_chars: int = 32_767
    #: All parts of a workbook, uncompressed.
    max_unpacked_bytes: int = 256 * MIB
    #: Uncompressed size over compressed size, for any part larger than 1 MiB.
    max_ratio: int = 100
    #: Parts (files) in a workbook's zip.
    max_parts: int = 2_000
    #: Size of a legacy .xls file, whose insides are not inspected before reading.
    max_xls_bytes: int = 10 * MIB


DEFAULT_LIMITS = ReadLimits()
#: Refusals that say the file is broken rather than too big: ``load_questions`` reports
#: them in ``ImportResult.errors`` like any unreadable file; the others it raises.
DAMAGED = ("damaged", "not_xlsx", "encrypted")


class FileRefusedError(QuestionBankError, ValueError):
    """A file refused before or while reading it: damaged, or beyond a limit.

    ``reason`` names what was wrong (``"damaged"``, ``"not_xlsx"``, ``"encrypted"``,
    ``"parts"``, ``"unpacked"``, ``"ratio"``, ``"rows"``, ``"columns"``, ``"cells"``,
    ``"cell_chars"``, ``"xls_bytes"``, ``"questions"``); ``details`` holds the figures
    found, for a message; ``str()`` is a message in Chinese naming the limit.
    """

    def __init__(self, reason: str, message: str, **details: object) -> None:
        super().__init__(message)
        self.reason = reason
        self.details = details


def refuse(reason: str, limits: ReadLimits, **found: object) -> FileRefusedError:
    """The refusal for ``reason``, with a Chinese message naming what and the limit."""
    megabytes = {"unpacked_mb": f"{limits.max_unpacked_bytes / MIB:g}",
                 "xls_mb": f"{limits.max_xls_bytes / MIB:g}"}
    message = _MESSAGES[reason].format(limits=limits, **megabytes, **found)
    return FileRefusedError(reason, message, **found)


_MESSAGES = {
    "not_xlsx": "文件是压缩包但不是Excel工作簿（.xlsx）：请用Excel打开后另存为.xlsx再上传",
    "damaged": "无法读取Excel文件（{detail}）：文件不完整或已损坏，请用Excel打开后另存为"
               ".xlsx再上传",
    "encrypted": "工作簿已加密或使用了不常见的压缩方式：请取消密码后另存为.xlsx再上传",
    "parts": "工作簿由{count:,}个部件组成，超过上限{limits.max_parts:,}个：请只保留需要导入的"
             "工作表后另存为.xlsx",
    "unpacked": "工作簿解压后超过{unpacked_mb}MB（上限），可能含有大量空白或隐藏"
                "内容：请只保留需要导入的数据后另存为.xlsx",
    "ratio": "工作簿中的“{part}”压缩比超过{limits.max_ratio}倍（正常文件远低于此），可能是恶意"
             "构造的文件：请只保留需要导入的数据后另存为.xlsx",
    "rows": "表格有{rows}行，超过上限{limits.max_rows:,}行",
    "questions": "文件有{count:,}道题，超过上限{limits.max_rows:,}道",
    "columns": "表格用到第{columns:,}列（{column_name}列），超过上限{limits.max_columns:,}列："
               "请删除右侧多余的列",
    "cells": "表格从A1到{last}共{cells:,}个单元格，超过上限{limits.max_cells:,}个：请删除多余的"
             "行列后另存",
    "cell_chars": "单元格{column}{row}有{chars:,}个字符，超过上限{limits.max_cell_chars:,}个",
    "xls_bytes": "旧版Excel（.xls）文件超过{xls_mb}MB：请另存为.xlsx后上传",
}


def column_name(index: int) -> str:
    """Excel's name of the 0-based column ``index``: 0 → A, 25 → Z, 26 → AA."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def check_grid(rows: int, columns: int, limits: ReadLimits) -> None:
    """Refuse a grid of ``rows`` × ``columns`` (counted from A1) beyond the limits."""
    if rows > limits.max_rows:
        raise refuse("rows", limits, rows=f"{rows:,}")
    if columns > limits.max_columns:
        raise refuse("columns", limits, columns=columns, column_name=column_name(columns - 1))
    if rows * columns > limits.max_cells:
        raise refuse("cells", limits, cells=rows * columns,
                     last=f"{column_name(columns - 1)}{rows}")


def check_cell(text: str, row: int, column: int, limits: ReadLimits) -> None:
    """Refuse a cell longer than the limit (``row`` and ``column`` are 1-based)."""
    if len(text) > limits.max_cell_chars:
        raise refuse("cell_chars", limits, row=row, column=column_name(column - 1),
                     chars=len(text))


def check_cells(rows: Iterable[Sequence[str]], limits: ReadLimits, first_row: int = 1) -> None:
    """``check_cell`` over rows of text, a row at a time (the longest cell first)."""
    for number, row in enumerate(rows, start=first_row):
        if row and max(map(len, row)) > limits.max_cell_chars:
            for column, text in enumerate(row, start=1):
                check_cell(text, number, column, limits)


def read_limited(
    reader: Iterable[list[str]], limits: ReadLimits, clean: Callable[[str], str] = str.strip
) -> list[list[str]]:
    """The rows of a CSV reader, each cell through ``clean``, refused as soon as a cell
    is too long or a row beyond ``max_rows`` holds a value (blank rows after the last
    one do not count)."""
    rows: list[list[str]] = []
    last = 0
    for number, row in enumerate(reader, start=1):
        cells = [clean(cell) for cell in row]
        check_cells((cells,), limits, number)
        if any(cells):
            last = number
            if last > limits.max_rows:
                raise refuse("rows", limits, rows=_count_rows(number, reader))
            if len(cells) > limits.max_columns:
                check_grid(last, len(cells), limits)
        rows.append(cells)
    return rows[:last] if last else rows


def _count_rows(seen: int, reader: Iterable[list[str]]) -> str:
    """How many rows the file has, for the message ("at least" past a million)."""
    for _row in reader:
        seen += 1
        if seen >= 1_000_000:
            return f"至少{seen:,}"
    return f"{seen:,}"


def check_workbook(data: bytes, limits: ReadLimits = DEFAULT_LIMITS) -> WorkbookCheck | None:
    """Check a workbook's container before calamine opens it.

    :return: for an .xlsx, the object that checks each sheet before it is read; for an
        .xls, None (only its size can be checked beforehand).
    :raises FileRefusedError: when the file is damaged or beyond a limit.
    """
    if data.startswith(XLS_MAGIC):
        if len(data) > limits.max_xls_bytes:
            raise refuse("xls_bytes", limits)
        check_xls(data, limits)
        return None
    return WorkbookCheck(data, limits)


# --- legacy .xls: BIFF records in an OLE2 compound file --------------------------------

#: BIFF records that put a value in a cell (calamine skips BLANK and MULBLANK): NUMBER,
#: LABEL, LABELSST, RK (BIFF2 and later), MULRK, BOOLERR, RSTRING, FORMULA (BIFF2–8).
_VALUE_RECORDS = {0x0203, 0x0204, 0x00FD, 0x027E, 0x007E, 0x00BD, 0x0205, 0x00D6,
                  0x0006, 0x0206, 0x0406}
_BOF, _EOF, _MULRK = (0x0009, 0x0209, 0x0409, 0x0809), 0x000A, 0x00BD


def check_xls(data: bytes, limits: ReadLimits) -> None:
    """Refuse an .xls whose sheets' grids are beyond the limits, before calamine reads it:
    calamine parses every sheet of an .xls as it opens the file, each into a grid from its
    first to its last value (a 6 KB file with values at A1 and IV65536 on five sheets
    asks for 2.5 GB). Counted from A1, per sheet and over all sheets."""
    stream = _cfb_stream(data, limits, ("Workbook", "Book"))
    total, position, rows, columns, depth, end = 0, 0, 0, 0, 0, len(stream) - 4
    while position <= end:
        kind, length = struct.unpack_from("<HH", stream, position)
        body = position + 4
        position = body + length
        if kind in _BOF:
            depth += 1
            rows = columns = 0
        elif kind == _EOF and depth:
            depth -= 1
            total += rows * columns
            if total > limits.max_cells:
                raise refuse("cells", limits, cells=total, last=_last(rows, columns))
        elif kind in _VALUE_RECORDS and length >= 4:
            row, column = struct.unpack_from("<HH", stream, body)
            if kind == _MULRK and length >= 6:  # a run of RKs: the last column at its end
                column = struct.unpack_from("<H", stream, body + length - 2)[0]
            if row + 1 > rows or column + 1 > columns:
                rows, columns = max(rows, row + 1), max(columns, column + 1)
                check_grid(rows, columns, limits)


def _last(rows: int, columns: int) -> str:
    return f"{column_name(columns - 1)}{rows}" if rows and columns else "A1"


def _cfb_stream(data: bytes, limits: ReadLimits, names: tuple[str, ...]) -> bytes:
    """The first stream called one of ``names`` in an OLE2 compound file (MS-CFB),
    followed through its sector chain; every chain is bounded, so a looping or
    overlong chain is refused as damaged rather than followed forever."""

    def damaged(detail: str) -> FileRefusedError:
        return refuse("damaged", limits, detail=f"OLE2: {detail}")

    if len(data) < 512:
        raise damaged("too short")
    sector_shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
    if sector_shift not in (9, 12) or mini_shift != 6:
        raise damaged("bad sector size")
    size = 1 << sector_shift
    (fat_count, directory_start, _, mini_cutoff, mini_fat_start, mini_fat_count,
     difat_start, difat_count) = struct.unpack_from("<IIIIIIII", data, 0x2C)
    sectors = (len(data) - size) // size + 1

    def sector(number: int) -> bytes:
        if number >= sectors:
            raise damaged(f"sector {number} beyond the file")
        return data[(number + 1) * size:(number + 2) * size]

    difat = list(struct.unpack_from("<109I", data, 0x4C))
    next_difat, per_sector = difat_start, size // 4 - 1
    for _ in range(min(difat_count, sectors)):
        if next_difat >= 0xFFFFFFFA:
            break
        entries = struct.unpack(f"<{size // 4}I", sector(next_difat))
        difat += entries[:per_sector]
        next_difat = entries[per_sector]
    fat: list[int] = []
    for number in difat[:fat_count]:
        if number < 0xFFFFFFFA:
            fat += struct.unpack(f"<{size // 4}I", sector(number))

    def chain(start: int, table: list[int]) -> list[int]:
        found, seen = [], set()
        while start < 0xFFFFFFFA:
            if start in seen or start >= len(table):
                raise damaged("broken sector chain")
            seen.add(start)
            found.append(start)
            start = table[start]
        return found

    directory = b"".join(sector(n) for n in chain(directory_start, fat))
    entries = [directory[i:i + 128] for i in range(0, len(directory) - 127, 128)]
    if not entries:
        raise damaged("no directory")
    root_start, root_size = struct.unpack_from("<IQ", entries[0], 116)
    for entry in entries:
        name_length = struct.unpack_from("<H", entry, 64)[0]
        name = entry[:max(0, min(name_length, 64) - 2)].decode("utf-16-le", "replace")
        if entry[66] != 2 or name not in names:
            continue
        start, length = struct.unpack_from("<IQ", entry, 116)
        if length > limits.max_xls_bytes * 4:
            raise damaged("stream larger than the file")
        if length >= mini_cutoff:
            return b"".join(sector(n) for n in chain(start, fat))[:length]
        mini_fat: list[int] = []
        for number in chain(mini_fat_start, fat)[:mini_fat_count]:
            mini_fat += struct.unpack(f"<{size // 4}I", sector(number))
        mini_stream = b"".join(sector(n) for n in chain(root_start, fat))[:root_size]
        return b"".join(mini_stream[n * 64:(n + 1) * 64] for n in chain(start, mini_fat))[:length]
    raise damaged("no Workbook stream")


class WorkbookCheck:
    """An .xlsx whose parts were all inflated and counted; ``check_sheet`` scans a sheet."""

    def __init__(self, data: bytes, limits: ReadLimits) -> None:
        self.data, self.limits = data, limits
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            infos = archive.infolist()
        # NotImplementedError: a directory asking for a zip version or method Python lacks.
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError,
                NotImplementedError) as exc:
            raise refuse("damaged", limits, detail=str(exc) or type(exc).__name__) from exc
        if len(infos) > limits.max_parts:
            raise refuse("parts", limits, count=len(infos))
        self.parts = {info.filename: info for info in infos}
        declared = sum(info.file_size for info in infos)
        if declared > limits.max_unpacked_bytes:
            raise refuse("unpacked", limits)
        for info in infos:
            _check_ratio(info.filename, info.file_size, info.compress_size, limits)
        # calamine guesses the kind of a zip from its parts: only the .xlsx reader is
        # guarded here, so a zip that could pass for .xlsb or .ods is refused.
        if "xl/workbook.xml" not in self.parts or {"xl/workbook.bin", "content.xml"} & set(
                self.parts):
            raise refuse("not_xlsx", limits)
        self.unpacked = 0
        self.sheet_parts = self._sheet_parts()
        self._scans: dict[str, SheetScan] = {}
        # Every other part is inflated and counted now (calamine reads the shared strings,
        # styles and workbook parts as soon as it opens the file), and every XML part is
        # scanned as a sheet too: a sheet reached by a route not followed here cannot
        # escape the limits.
        listed = set(self.sheet_parts.values())
        for info in infos:
            if info.filename in listed:
                continue
            if info.filename.endswith(".xml"):
                self._scan(info)
            else:
                for _chunk in self._inflate(info):
                    pass

    def _inflate(self, info: zipfile.ZipInfo, counted: bool = True) -> Iterator[bytes]:
        """The part's real uncompressed bytes, in chunks, counted against the limits
        (not ``counted`` again when a part is read a second time)."""
        if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED,
                                                              zipfile.ZIP_DEFLATED):
            raise refuse("encrypted", self.limits)
        raw = self._raw(info)
        inflater = zlib.decompressobj(-zlib.MAX_WBITS) if info.compress_type else None
        size = 0
        try:
            for start in range(0, len(raw), 64 * 1024):
                piece = raw[start:start + 64 * 1024]
                while piece:
                    if inflater is None:
                        out, piece = bytes(piece), b""
                    else:
                        out = inflater.decompress(piece, MIB)
                        piece = inflater.unconsumed_tail
                    size += len(out)
                    if size > info.file_size:  # the zip's directory lies
                        raise refuse("damaged", self.limits,
                                     detail=f"{info.filename}: larger than its zip entry says")
                    if counted:
                        self._count(info.filename, len(out), size, len(raw))
                    yield out
                    if inflater is not None and inflater.eof:
                        return
            if inflater is not None:
                out = inflater.flush()
                if size + len(out) > info.file_size:
                    raise refuse("damaged", self.limits, detail=f"{info.filename}: too long")
                if counted:
                    self._count(info.filename, len(out), size + len(out), len(raw))
                yield out
        except zlib.error as exc:
            raise refuse("damaged", self.limits, detail=f"{info.filename}: {exc}") from exc

    def _count(self, part: str, added: int, size: int, compressed: int) -> None:
        self.unpacked += added
        if self.unpacked > self.limits.max_unpacked_bytes:
            raise refuse("unpacked", self.limits)
        _check_ratio(part, size, compressed, self.limits)

    def _raw(self, info: zipfile.ZipInfo) -> memoryview:
        """The compressed bytes of a part, found through its local header."""
        offset = info.header_offset
        header = self.data[offset:offset + 30]
        if len(header) < 30 or header[:4] != XLSX_MAGIC:
            raise refuse("damaged", self.limits, detail=f"{info.filename}: bad local header")
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        start = offset + 30 + name_length + extra_length
        return memoryview(self.data)[start:start + info.compress_size]

    def _sheet_parts(self) -> dict[str, str]:
        """Sheet name → its part, from xl/workbook.xml and its relationships."""
        workbook = self._small_xml("xl/workbook.xml")
        relations = self._small_xml("xl/_rels/workbook.xml.rels")
        targets = {}
        for element in relations.iter() if relations is not None else ():
            if element.tag.rpartition("}")[2] == "Relationship":
                target = element.get("Target", "")
                target = target[1:] if target.startswith("/") else "xl/" + target
                targets[element.get("Id")] = _normalise(target)
        sheets = {}
        for element in workbook.iter() if workbook is not None else ():
            if element.tag.rpartition("}")[2] == "sheet":
                relation = next((value for key, value in element.attrib.items()
                                 if key.rpartition("}")[2] == "id"), None)
                if targets.get(relation) in self.parts:
                    sheets[element.get("name", "")] = targets[relation]
        return sheets

    def _small_xml(self, name: str):
        info = self.parts.get(name)
        if info is None:
            return None
        if info.file_size > 16 * MIB:
            raise refuse("unpacked", self.limits)
        data = b"".join(self._inflate(info))
        try:
            parser = DefusedXMLParser()
            parser.feed(data)
            return parser.close()
        except (ParseError, DefusedXmlException, ValueError, LookupError) as exc:
            raise refuse("damaged", self.limits, detail=f"{name}: {exc}") from exc

    def check_sheet(self, name: str | None = None, index: int = 0) -> SheetScan:
        """Scan the sheet called ``name`` (or the ``index``-th) before calamine reads it.

        :raises FileRefusedError: when its grid is beyond the limits.
        """
        if name is None:
            names = list(self.sheet_parts)
            name = names[index] if index < len(names) else None
        part = self.sheet_parts.get(name) if name is not None else None
        if part is None:  # not a sheet calamine can find either
            return SheetScan(self.limits)
        if part not in self._scans:
            self._scans[part] = self._scan(self.parts[part])
        return self._scans[part]

    def _scan(self, info: zipfile.ZipInfo) -> SheetScan:
        """The sheet's grid: by the fast scan when every cell tag has the usual shape (as
        Excel, WPS and the usual libraries write them), else by a full streaming parse."""
        scan = self._fast_scan(info)
        if scan is not None:
            return scan
        scan = SheetScan(self.limits)
        parser = DefusedXMLParser(target=scan)
        try:
            for chunk in self._inflate(info, counted=False):
                parser.feed(chunk)
            parser.close()
        except FileRefusedError:
            raise
        except (ParseError, DefusedXmlException, ValueError, LookupError) as exc:
            raise refuse("damaged", self.limits, detail=f"{info.filename}: {exc}") from exc
        return scan

    def _fast_scan(self, info: zipfile.ZipInfo) -> SheetScan | None:
        """Regular expressions over the inflated chunks, about ten times faster than a
        parse: each cell start tag must carry ``r="A1"`` in plain form; a tag that is not
        self-closing counts as holding a value (so a formatted empty cell written as
        ``<c r="Z9" s="1"/>`` does not count, as calamine skips it). Returns None, for the
        full parse, as soon as one cell tag does not fit (no reference, quotes or spacing
        of another kind), so nothing can hide from the count."""
        scan = SheetScan(self.limits)
        tail = b""
        for chunk in self._inflate(info):
            text = tail + chunk
            cut = text.rfind(b">") + 1
            text, tail = text[:cut], text[cut:]
            if scan.declared is None and (found := _DIMENSION.search(text)):
                scan.declared = parse_reference(found[1].decode("ascii").rpartition(":")[2])
            cells = _CELL.findall(text)
            if len(cells) != len(_CELL_START.findall(text)) or _ROW_ZERO.search(text):
                return None
            valued = [(letters, digits) for letters, digits, closed in cells if not closed]
            if valued:
                rows = max({digits for _, digits in valued}, key=lambda d: (len(d), d))
                columns = max({letters for letters, _ in valued}, key=lambda c: (len(c), c))
                row, column = parse_reference((columns + rows).decode("ascii"))  # type: ignore[misc]
                if row > scan.rows or column > scan.columns:
                    scan.rows, scan.columns = max(scan.rows, row), max(scan.columns, column)
                    check_grid(scan.rows, scan.columns, self.limits)
        if _CELL_START.search(tail):
            return None
        return scan

def _normalise(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part and part != ".":
            parts.append(part)
    return "/".join(parts)


def _check_ratio(part: str, size: int, compressed: int, limits: ReadLimits) -> None:
    if size > MIB and size > limits.max_ratio * max(compressed, 1):
        raise refuse("ratio", limits, part=part)


#: Any cell start tag, with or without a namespace prefix.
_CELL_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s/>]")
#: A cell start tag in the usual shape: its reference, and "/" when it closes itself.
_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c\s[^>]*?\br=\"([A-Z]{1,3})([0-9]{1,7})\"[^>]*?(/?)>")
#: A reference whose row starts with 0 ("A0"): the full parse decides.
_ROW_ZERO = re.compile(rb"\br=\"[A-Z]{1,3}0")
_DIMENSION = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?dimension\s[^>]*?\bref=\"([A-Z0-9:$]{1,30})\"")
_REFERENCE = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d{1,7})$")


def parse_reference(text: str) -> tuple[int, int] | None:
    """"B3" → (row 3, column 2), both 1-based; None when it is not a cell reference."""
    match = _REFERENCE.match(text.strip())
    if match is None:
        return None
    column = 0
    for letter in match[1].upper():
        column = column * 26 + ord(letter) - 64
    return int(match[2]), column


class SheetScan:
    """Target of the streaming parse of a sheet: the declared dimension and the real last
    row and column that hold a value (calamine skips cells without a value). Refuses as
    soon as the grid up to them is beyond the limits."""

    def __init__(self, limits: ReadLimits) -> None:
        self.limits = limits
        self.declared: tuple[int, int] | None = None
        self.rows = self.columns = 0  # the grid from A1 to the last value
        self._row = 0
        self._cell: tuple[int, int] | None = None
        self._column = 0

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        name = tag.rpartition("}")[2]
        if name == "c":
            if "r" not in attrib:
                self._column += 1
                self._cell = (self._row, self._column)
                return
            reference = parse_reference(attrib["r"])
            if reference is None or reference[0] < 1:
                # calamine reads what it can of a reference: "A99999999999999999999"
                # overflowed into a grid it could not allocate (found by the fuzz test).
                raise refuse("damaged", self.limits,
                             detail=f"cell reference “{attrib['r'][:30]}”")
            self._cell = reference
            self._column = reference[1]
        elif name in ("v", "is") and self._cell is not None:
            row, column = self._cell
            self._cell = None
            if row > self.rows or column > self.columns:
                self.rows, self.columns = max(self.rows, row), max(self.columns, column)
                check_grid(self.rows, self.columns, self.limits)
        elif name == "row":
            number = attrib.get("r")
            if number is None:
                self._row += 1
            elif number.isdigit() and len(number) <= 7 and int(number) >= 1:
                self._row = int(number)
            else:
                raise refuse("damaged", self.limits, detail=f"row number “{number[:30]}”")
            self._column = 0
        elif name == "dimension":
            last = attrib.get("ref", "").rpartition(":")[2]
            self.declared = parse_reference(last)

    def close(self) -> SheetScan:
        return self
