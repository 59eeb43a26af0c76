"""HTML to readable text with :mod:`html.parser`; headings become sections.

The text starts with the ``<title>`` (then a blank line) when there is one. Block elements
end lines, paragraphs and headings are separated by blank lines, runs of whitespace
collapse to one space except inside ``<pre>``, list items start with ``- `` and table
cells are separated by `` | ``.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from sleuth.extractors.base import Document, ExtractionError, Section
from sleuth.extractors.outline import Heading, sections_from_headings
from sleuth.extractors.textio import bom_encoding, clean, decode, read_bytes

_SKIP = frozenset({"script", "style", "noscript", "template", "svg", "math"})
_LINE = frozenset(
    {
        "div", "li", "tr", "dt", "dd", "section", "article", "header", "footer",
        "nav", "aside", "main", "figure", "figcaption", "form", "fieldset", "legend",
        "address", "details", "summary", "caption", "option", "label", "dialog", "hgroup",
    }
)  # fmt: skip
_PARAGRAPH = frozenset(
    {"p", "pre", "blockquote", "ul", "ol", "dl", "table", "hr", "h1", "h2", "h3", "h4", "h5", "h6"}
)
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_CELLS = frozenset({"td", "th"})
_WHITESPACE = re.compile(r"[ \t\n\r\f\v]+")
_UNSAFE_OPENERS = re.compile(r"<!--|<!\[")
_MARKED_CLOSE = re.compile(r"\]\s*>")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


@dataclass(frozen=True, slots=True)
class HtmlText:
    """The outcome of :func:`html_to_text`."""

    text: str
    title: str
    sections: tuple[Section, ...]


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.length = 0
        self.title_parts: list[str] = []
        self.headings: list[Heading] = []
        self._skip = 0
        self._pre = 0
        self._in_title = False
        self._heading: tuple[int, int, list[str]] | None = None
        self._break = 0
        self._space = False
        self._line_start = True
        self._first_cell = True
        self._drop_newline = False

    def parse_marked_section(self, i: int, report: bool = True) -> int:
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:
            # "<![foo[" with an unknown keyword: browsers treat it as a bogus comment.
            end = self.rawdata.find(">", i + 3)
            return -1 if end < 0 else end + 1

    # Output -------------------------------------------------------------------------

    def _emit(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    def _flush_break(self) -> None:
        if self._break and self.length:
            # <pre> text may already end in newlines; they count towards the break.
            last = self.parts[-1]
            already = len(last) - len(last.rstrip("\n"))
            if self._break > already:
                self._emit("\n" * (self._break - already))
            self._line_start = True
        self._break = 0

    def _request_break(self, lines: int) -> None:
        self._break = max(self._break, lines)
        self._space = False

    # Parser callbacks ---------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip += 1
            return
        if self._skip:
            return
        if tag == "title":
            self._in_title = True
            return
        if tag == "body":
            # An unclosed <title> must not swallow the whole page.
            self._in_title = False
        if tag in _PARAGRAPH:
            self._request_break(2)
        elif tag in _LINE:
            self._request_break(1)
        if tag == "br":
            # A forced line break; two in a row leave a blank line. Next to a block
            # boundary it adds nothing.
            if not self._break and self.length:
                self._emit("\n")
                self._line_start = True
                self._space = False
        elif tag == "tr":
            self._first_cell = True
        elif tag in _CELLS:
            if not self._first_cell:
                self._flush_break()
                self._emit(" | ")
                self._space = False
            self._first_cell = False
        elif tag == "li":
            self._flush_break()
            self._emit("- ")
            self._line_start = False
            self._space = False
        elif tag == "pre":
            self._pre += 1
            self._drop_newline = True
        elif tag in _HEADINGS and self._heading is None:
            self._flush_break()
            self._heading = (self.length, _HEADINGS[tag], [])

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # Self-closing syntax (<br/>, <svg/>) opens nothing that a closing tag would undo.
        if tag in _SKIP or tag == "title":
            return
        self.handle_starttag(tag, attrs)
        if tag in _HEADINGS or tag == "pre":
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
            return
        if tag in ("title", "head"):
            self._in_title = False
            return
        if self._skip:
            return
        if tag == "pre":
            self._pre = max(0, self._pre - 1)
        if tag in _HEADINGS and self._heading is not None:
            offset, level, words = self._heading
            self._heading = None
            title = " ".join(" ".join(words).split())
            if title:
                self.headings.append(Heading(offset, level, title))
        if tag in _PARAGRAPH:
            self._request_break(2)
        elif tag in _LINE:
            self._request_break(1)

    def handle_data(self, data: str) -> None:
        # Cleaning here, not at the end, keeps the recorded heading offsets valid.
        data = clean(data)
        if self._in_title:
            self.title_parts.append(data)
            return
        if self._skip or not data:
            return
        if self._pre:
            if self._drop_newline and data.startswith(("\r\n", "\n")):
                data = data[2:] if data.startswith("\r\n") else data[1:]
            self._drop_newline = False
            if not data:
                return
            self._flush_break()
            if self._space and not self._line_start:
                self._emit(" ")
            self._space = False
            self._emit(data)
            self._line_start = data.endswith("\n")
            self._add_heading_words(data)
            return
        words = _WHITESPACE.split(data)
        if data[:1].isspace():
            self._space = True
        content = " ".join(word for word in words if word)
        if content:
            self._flush_break()
            if self._space and not self._line_start:
                self._emit(" ")
            self._emit(content)
            self._line_start = False
            self._space = data[-1:].isspace()
            self._add_heading_words(content)

    def _add_heading_words(self, text: str) -> None:
        if self._heading is not None:
            self._heading[2].append(text)


def _defuse(markup: str) -> str:
    """Escape the ``<`` of constructs that never terminate.

    html.parser rescans from every unterminated tag, comment or ``<![`` section to the end
    of the input, which is quadratic: a 60 kB file of ``<a <a <a`` takes minutes. Nothing
    after the last ``>`` can terminate, nor a comment after the last ``-->``, nor a marked
    section after the last ``]>``; as text they cost one pass.
    """
    last_gt = markup.rfind(">")
    last_comment_close = markup.rfind("-->")
    last_marked_close = -1
    for match in _MARKED_CLOSE.finditer(markup):
        last_marked_close = match.start()
    pieces: list[str] = []
    done = 0
    for match in _UNSAFE_OPENERS.finditer(markup, 0, last_gt + 1):
        start = match.start()
        if match.group() == "<!--":
            unterminated = last_comment_close < start + 4
        else:
            unterminated = last_marked_close < start + 3
        if unterminated:
            pieces.append(markup[done:start])
            pieces.append("&lt;")
            done = start + 1
    pieces.append(markup[done : last_gt + 1])
    pieces.append(markup[last_gt + 1 :].replace("<", "&lt;"))
    return "".join(pieces)


def html_to_text(markup: str, *, title_line: bool = True) -> HtmlText:
    """Readable text, ``<title>`` and heading sections of an HTML document.

    With ``title_line`` the title also opens the text (for pages, where it is often the
    best summary); without it, the text is the body alone (for HTML mail).
    """
    parser = _TextParser()
    try:
        parser.feed(_defuse(markup))
        parser.close()
    except (AssertionError, ValueError, IndexError) as exc:
        # html.parser is lenient, but a few malformed declarations still make it raise.
        raise ExtractionError(f"unparsable HTML: {exc}") from exc
    body = "".join(parser.parts).rstrip()
    title = " ".join("".join(parser.title_parts).split())
    headings = parser.headings
    prefix = "" if not title_line else f"{title}\n\n" if title and body else title
    if prefix:
        headings = [Heading(h.offset + len(prefix), h.level, h.title) for h in headings]
    text = prefix + body
    headings = [h for h in headings if h.offset < len(text)]
    if not title:
        title = next((h.title for h in headings if h.level == 1), "")
    return HtmlText(text, title, sections_from_headings(headings, len(text)))


def decode_html(raw: bytes) -> str:
    """Decode HTML bytes: BOM, then UTF-8, then a ``<meta charset>``, then cp1252."""
    if bom_encoding(raw) is None and b"\x00" not in raw:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
        declared = _META_CHARSET.search(raw[:4096])
        if declared:
            try:
                codec = codecs.lookup(declared.group(1).decode("ascii"))
            except LookupError:
                codec = None
            if codec is not None and codec.name != "utf-8":
                return raw.decode(codec.name, errors="replace")
    text, _ = decode(raw)
    return text


class HtmlExtractor:
    """Web pages saved to disk; ``verbatim`` is always false."""

    kind: str = "html"

    def extract(self, path: Path) -> Document:
        converted = html_to_text(decode_html(read_bytes(path)))
        return Document(
            text=converted.text,
            kind=self.kind,
            verbatim=False,
            title=converted.title,
            sections=converted.sections,
        )
