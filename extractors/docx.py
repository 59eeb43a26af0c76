"""Word documents (.docx): paragraphs of ``word/document.xml``, headings as sections.

Non-empty paragraphs (table cells and text boxes included) are joined by newlines. A
paragraph is a heading when its style is ``Heading 1``..``Heading 9`` or ``Title`` (by
style id, or by style name through ``word/styles.xml`` for localised templates) or when it
carries an outline level.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

from sleuth.extractors.base import Document, ExtractionError
from sleuth.extractors.outline import Heading, sections_from_headings
from sleuth.extractors.textio import clean

#: Parts larger than this (uncompressed) are refused: a zip bomb, not a document.
MAX_PART_BYTES = 50 * 1024 * 1024

_DOCUMENT = "word/document.xml"
_STYLES = "word/styles.xml"
_CORE = "docProps/core.xml"

_HEADING_STYLE = re.compile(r"heading([1-9])")
# Subtrees with no reading text: properties (their <w:tab> are tab stops), deleted
# revisions, field codes, and the fallback copy of alternate content.
_SKIP = frozenset({"pPr", "rPr", "del", "delText", "instrText", "Fallback", "sectPr"})
# Zip archives from the wild fail in all of these ways.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    EOFError,
    NotImplementedError,
    RuntimeError,
    ValueError,
    zlib.error,
)


def _local(tag: object) -> str:
    # Matching on local names accepts both transitional and strict OOXML namespaces.
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _attr(element: ET.Element, name: str) -> str | None:
    for key, value in element.attrib.items():
        if _local(key) == name:
            return value
    return None


def _read_part(archive: zipfile.ZipFile, name: str) -> bytes | None:
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > MAX_PART_BYTES:
        raise ExtractionError(f"DOCX part too large: {name}")
    with archive.open(info) as stream:
        # The declared size may lie; never inflate more than the limit.
        data = stream.read(MAX_PART_BYTES + 1)
    if len(data) > MAX_PART_BYTES:
        raise ExtractionError(f"DOCX part too large: {name}")
    return data


def _parse(data: bytes, name: str) -> ET.Element:
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        # Office never writes a DTD; one here can only be an entity-expansion attack.
        raise ExtractionError(f"unsupported DOCX: DTD in {name}")
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise ExtractionError(f"corrupt DOCX: {name}: {exc}") from exc


def _parse_optional(data: bytes | None, name: str) -> ET.Element | None:
    """Parse a part the text does not depend on: damage there costs titles, not the file."""
    if not data:
        return None
    try:
        return _parse(data, name)
    except ExtractionError:
        return None


def _walk(element: ET.Element) -> Iterator[ET.Element]:
    """Pre-order traversal without recursion (documents can nest deeply)."""
    stack = [element]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(list(current)))


def _paragraph_text(paragraph: ET.Element) -> str:
    parts: list[str] = []
    stack = list(reversed(list(paragraph)))
    while stack:
        element = stack.pop()
        name = _local(element.tag)
        if name == "p" or name in _SKIP:
            # A nested paragraph (text box) is visited on its own by the caller.
            continue
        if name == "t":
            parts.append(element.text or "")
        elif name == "tab":
            parts.append("\t")
        elif name in ("br", "cr"):
            parts.append("\n")
        elif name == "noBreakHyphen":
            parts.append("-")
        stack.extend(reversed(list(element)))
    return clean("".join(parts))


def _style_names(styles: ET.Element | None) -> dict[str, str]:
    names: dict[str, str] = {}
    if styles is None:
        return names
    for style in styles:
        if _local(style.tag) != "style":
            continue
        style_id = _attr(style, "styleId")
        for child in style:
            if _local(child.tag) == "name" and style_id:
                names[style_id] = _attr(child, "val") or ""
    return names


def _heading_level(paragraph: ET.Element, style_names: dict[str, str]) -> int | None:
    """0 for a title, 1-9 for headings, ``None`` for body text."""
    properties = next((c for c in paragraph if _local(c.tag) == "pPr"), None)
    if properties is None:
        return None
    for child in properties:
        name = _local(child.tag)
        if name == "pStyle":
            style_id = _attr(child, "val") or ""
            for candidate in (style_id, style_names.get(style_id, "")):
                key = candidate.replace(" ", "").lower()
                if key == "title":
                    return 0
                match = _HEADING_STYLE.fullmatch(key)
                if match:
                    return int(match.group(1))
        elif name == "outlineLvl":
            value = _attr(child, "val") or ""
            if value.isdigit() and int(value) < 9:
                return int(value) + 1
    return None


def _core_title(core: ET.Element | None) -> str:
    if core is None:
        return ""
    for child in core:
        if _local(child.tag) == "title" and child.text:
            return clean(" ".join(child.text.split()))
    return ""


class DocxExtractor:
    """Word 2007+ documents; ``verbatim`` is always false."""

    kind: str = "docx"

    def extract(self, path: Path) -> Document:
        try:
            with zipfile.ZipFile(path) as archive:
                document_xml = _read_part(archive, _DOCUMENT)
                if document_xml is None:
                    raise ExtractionError(f"not a DOCX: no {_DOCUMENT}")
                styles_xml = _read_part(archive, _STYLES)
                core_xml = _read_part(archive, _CORE)
        except _ZIP_ERRORS as exc:
            raise ExtractionError(f"corrupt DOCX: {exc}") from exc

        body = _parse(document_xml, _DOCUMENT)
        style_names = _style_names(_parse_optional(styles_xml, _STYLES))
        core = _parse_optional(core_xml, _CORE)

        lines: list[str] = []
        headings: list[Heading] = []
        offset = 0
        for element in _walk(body):
            if _local(element.tag) != "p":
                continue
            line = _paragraph_text(element)
            if not line.strip():
                continue
            level = _heading_level(element, style_names)
            if level is not None:
                headings.append(Heading(offset, level, " ".join(line.split())))
            lines.append(line)
            offset += len(line) + 1
        text = "\n".join(lines)
        title = _core_title(core) or next((h.title for h in headings if h.level == 0), "")
        return Document(
            text=text,
            kind=self.kind,
            verbatim=False,
            title=title,
            sections=sections_from_headings(headings, len(text)),
        )
