"""Markdown: sections at ATX (``#``) and setext (underlined) headings, by heading path."""

from __future__ import annotations

import re
from pathlib import Path

from sleuth.extractors.base import Document
from sleuth.extractors.outline import Heading, sections_from_headings
from sleuth.extractors.textio import iter_lines, read_text

# Patterns avoid a lazy group before trailing whitespace: on a long line of spaces that
# backtracks quadratically. Whitespace is stripped in Python instead.
_ATX = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*))?$")
_SETEXT = re.compile(r" {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})(.*)$")
_THEMATIC_BREAK = re.compile(r" {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$")
# Lines that open a block other than a paragraph (list item, quote, HTML), so an underline
# after them is a thematic break, not a setext heading.
_OTHER_BLOCK = re.compile(r" {0,3}(?:[-*+](?:[ \t]|$)|\d{1,9}[.)](?:[ \t]|$)|>|<)")
_INDENTED = re.compile(r" {4}|\t")
_FRONT_MATTER_TITLE = re.compile(r"title:(.*)$")
# Longer headings are cut before cleaning: they are prose mistaken for a heading anyway.
_MAX_HEADING = 500

_IMAGE_OR_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_HEADING_ID = re.compile(r"\{#[^}]*\}$")
_EMPHASIS = re.compile(r"\*\*|__|`")


def heading_text(raw: str) -> str:
    """A heading's text with inline markup (links, code spans, emphasis, ``{#id}``) removed."""
    text = _HEADING_ID.sub("", raw[:_MAX_HEADING].rstrip())
    text = _IMAGE_OR_LINK.sub(r"\1", text)
    text = _EMPHASIS.sub("", text)
    return " ".join(text.split())


def _strip_closing_hashes(raw: str) -> str:
    """``Title ##`` → ``Title``; a closing sequence needs a space before it (or nothing)."""
    text = raw.rstrip()
    bare = text.rstrip("#")
    if bare != text and (not bare or bare[-1] in " \t"):
        return bare.rstrip()
    return text


def _front_matter_end(lines: list[tuple[int, str]]) -> tuple[int, str]:
    """Index of the first line after YAML front matter (0 if none) and its ``title:``."""
    if not lines or lines[0][1].rstrip() != "---":
        return 0, ""
    title = ""
    for index in range(1, len(lines)):
        line = lines[index][1]
        if line.rstrip() in ("---", "..."):
            return index + 1, title
        match = _FRONT_MATTER_TITLE.match(line)
        if match and not title:
            title = match.group(1).strip().strip("\"'")
    # Unterminated: it was a thematic break, not front matter.
    return 0, ""


def find_headings(text: str) -> tuple[list[Heading], str]:
    """Headings outside fenced code, in order, plus the front matter title if any."""
    lines = iter_lines(text)
    first, front_title = _front_matter_end(lines)
    headings: list[Heading] = []
    fence: str | None = None
    paragraph: list[tuple[int, str]] = []
    for offset, line in lines[first:]:
        if fence is not None:
            stripped = line.strip()
            if stripped.startswith(fence) and stripped.strip(fence[0]) == "":
                fence = None
            continue
        fence_match = _FENCE.match(line)
        if fence_match and not (fence_match.group(1)[0] == "`" and "`" in fence_match.group(2)):
            fence = fence_match.group(1)
            paragraph = []
            continue
        if not line.strip():
            paragraph = []
            continue
        setext = _SETEXT.match(line)
        if setext and paragraph:
            title = heading_text(" ".join(part.strip() for _, part in paragraph))
            level = 1 if setext.group(1)[0] == "=" else 2
            headings.append(Heading(paragraph[0][0], level, title))
            paragraph = []
            continue
        atx = _ATX.match(line)
        if atx:
            title = _strip_closing_hashes(atx.group(2) or "")
            headings.append(Heading(offset, len(atx.group(1)), heading_text(title)))
            paragraph = []
            continue
        if _THEMATIC_BREAK.match(line):
            paragraph = []
            continue
        if _OTHER_BLOCK.match(line):
            paragraph = []
        elif paragraph or not _INDENTED.match(line):
            paragraph.append((offset, line))
    return headings, front_title


class MarkdownExtractor:
    """Markdown keeps its bytes (verbatim) and gains one section per heading."""

    kind: str = "md"

    def extract(self, path: Path) -> Document:
        text, verbatim = read_text(path)
        headings, front_title = find_headings(text)
        title = next((h.title for h in headings if h.level == 1 and h.title), front_title)
        return Document(
            text=text,
            kind=self.kind,
            verbatim=verbatim,
            title=title,
            sections=sections_from_headings(headings, len(text)),
        )
