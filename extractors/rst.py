"""reStructuredText: sections at underlined (optionally overlined) titles."""

from __future__ import annotations

import re
from pathlib import Path

from sleuth.extractors.base import Document
from sleuth.extractors.outline import Heading, sections_from_headings
from sleuth.extractors.textio import iter_lines, read_text

# Any non-alphanumeric printable ASCII character may adorn a title; reST uses one
# character repeated. Two is the shortest adornment taken, so a lone "*" or "-" (an empty
# bullet) is not read as an underline.
_ADORNMENT = re.compile(r"([!-/:-@\[-`{-~])\1+[ \t]*$")
_ROLE = re.compile(r":[\w.+-]+:(?=`)")
_MARKUP = re.compile(r"\*\*|``|[`*]")
# Longer titles are cut before cleaning, which keeps the work per line bounded.
_MAX_TITLE = 500


def _adornment(line: str) -> str | None:
    """The adornment character when ``line`` is an adornment line, else ``None``."""
    match = _ADORNMENT.match(line)
    return match.group(1) if match else None


def _title_text(raw: str) -> str:
    text = _ROLE.sub("", raw[:_MAX_TITLE])
    text = _MARKUP.sub("", text)
    return " ".join(text.split())


def find_headings(text: str) -> list[Heading]:
    """Section titles in order; levels follow the order in which adornment styles appear."""
    lines = iter_lines(text)
    styles: list[tuple[str, bool]] = []
    headings: list[Heading] = []

    def add(offset: int, char: str, overlined: bool, raw_title: str) -> None:
        style = (char, overlined)
        if style not in styles:
            styles.append(style)
        headings.append(Heading(offset, styles.index(style) + 1, _title_text(raw_title)))

    index = 0
    count = len(lines)
    after_heading = -1
    while index < count:
        offset, line = lines[index]
        # A title starts a text block; a title right under another is tolerated too.
        starts_block = index in (0, after_heading) or not lines[index - 1][1].strip()
        if not starts_block or not line.strip():
            index += 1
            continue
        char = _adornment(line)
        if char is not None and index + 2 < count:
            title = lines[index + 1][1]
            under = lines[index + 2][1]
            if (
                title.strip()
                and _adornment(title) is None
                and under.rstrip() == line.rstrip()
                and len(line.rstrip()) >= len(title.strip())
            ):
                add(offset, char, True, title)
                index += 3
                after_heading = index
                continue
        if index + 1 < count and not line[0].isspace() and _adornment(line) is None:
            under = lines[index + 1][1]
            under_char = _adornment(under)
            if under_char is not None and len(under.rstrip()) >= len(line.rstrip()):
                add(offset, under_char, False, line)
                index += 2
                after_heading = index
                continue
        index += 1
    return headings


class RstExtractor:
    """reStructuredText keeps its bytes (verbatim) and gains one section per title."""

    kind: str = "rst"

    def extract(self, path: Path) -> Document:
        text, verbatim = read_text(path)
        headings = find_headings(text)
        title = headings[0].title if headings else ""
        return Document(
            text=text,
            kind=self.kind,
            verbatim=verbatim,
            title=title,
            sections=sections_from_headings(headings, len(text)),
        )
