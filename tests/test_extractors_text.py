"""Decoding, plain text, Markdown and reStructuredText."""

from __future__ import annotations

import codecs
import time
from pathlib import Path

import pytest

from sleuth.extractors.base import Document, ExtractionError
from sleuth.extractors.markdown import MarkdownExtractor, find_headings, heading_text
from sleuth.extractors.registry import extract
from sleuth.extractors.rst import RstExtractor
from sleuth.extractors.rst import find_headings as rst_headings
from sleuth.extractors.text import TextExtractor
from sleuth.extractors.textio import clean, decode, iter_lines, line_starts, looks_like_text
from sleuth.extractors.validate import document_problems

FIXTURES = Path(__file__).parent / "fixtures" / "extractors"


def titles(document: Document) -> list[str]:
    return [section.title for section in document.sections]


def section_texts(document: Document) -> list[str]:
    return [document.text[s.start : s.end] for s in document.sections]


# Decoding ------------------------------------------------------------------------------


def test_decode_utf8_is_verbatim_and_keeps_crlf() -> None:
    raw = "naïve\r\nline\r\n".encode()
    text, verbatim = decode(raw)
    assert verbatim
    assert text == "naïve\r\nline\r\n"
    assert text.encode() == raw


def test_decode_strips_utf8_bom_and_is_not_verbatim() -> None:
    text, verbatim = decode(codecs.BOM_UTF8 + b"hello")
    assert (text, verbatim) == ("hello", False)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_decode_follows_utf16_and_utf32_boms(encoding: str) -> None:
    text, verbatim = decode("Grüße\n".encode(encoding))
    assert (text, verbatim) == ("Grüße\n", False)


def test_decode_falls_back_to_cp1252_then_latin1() -> None:
    assert decode(b"caf\xe9 \x80") == ("café €", False)
    # 0x81 is undefined in cp1252, so only latin-1 can take it.
    assert decode(b"a\x81b") == ("a\x81b", False)


def test_decode_rejects_nul_bytes() -> None:
    with pytest.raises(ExtractionError, match="binary file"):
        decode(b"abc\x00def")


def test_looks_like_text() -> None:
    assert looks_like_text(b"")
    assert looks_like_text(b"plain\n")
    assert looks_like_text("日本語".encode()[:-1])  # cut inside a character
    assert looks_like_text(b"\x1b[31mred\x1b[0m log line\n")
    assert not looks_like_text(b"ELF\x00\x01")
    assert not looks_like_text(bytes(range(1, 9)) * 50)


def test_clean_removes_nul_and_lone_surrogates() -> None:
    assert clean("a\x00b\ud800c") == "ab\ufffdc"


def test_line_helpers_treat_all_line_breaks_alike() -> None:
    text = "a\r\nb\rc\nd"
    assert line_starts(text) == [0, 3, 5, 7]
    assert iter_lines(text) == [(0, "a"), (3, "b"), (5, "c"), (7, "d")]
    assert iter_lines("x\n") == [(0, "x")]
    assert iter_lines("") == [(0, "")]


# Plain text ----------------------------------------------------------------------------


def test_cp1252_text_file() -> None:
    document = TextExtractor().extract(FIXTURES / "cp1252.txt")
    assert document.kind == "text"
    assert not document.verbatim
    assert document.text == "Café crème “quoted” € price\n"


def test_empty_text_file_is_an_empty_verbatim_document(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    document = extract(path)
    assert document.text == ""
    assert document.verbatim


def test_text_with_nul_is_binary(tmp_path: Path) -> None:
    path = tmp_path / "fake.txt"
    path.write_bytes(b"looks like text\x00but is not")
    with pytest.raises(ExtractionError, match="binary file"):
        extract(path)


# Markdown ------------------------------------------------------------------------------


def test_markdown_heading_paths_and_fences() -> None:
    path = FIXTURES / "guide.md"
    document = MarkdownExtractor().extract(path)
    assert document.kind == "md"
    assert document.verbatim
    assert document.text.encode() == path.read_bytes()
    assert document.title == "Sleuth Guide"
    assert titles(document) == [
        "Sleuth Guide",
        "Sleuth Guide > Install",
        "Sleuth Guide > Install > Linux",
        "Sleuth Guide > Install > Linux > Debian",
        "Sleuth Guide > Install > macOS",
        "Sleuth Guide > Usage",
        "Setext Top",
    ]
    texts = section_texts(document)
    assert texts[0].startswith("# Sleuth Guide\n")
    # Lines starting with "#" inside fences stay in the Debian section.
    assert "# this is a shell comment" in texts[3]
    assert "## also not a heading" in texts[3]
    assert texts[5].startswith("Usage\n-----\n")
    # "---" under a list item is a thematic break, not a heading.
    assert texts[6].endswith("Last words.\n")
    assert document.sections[-1].end == len(document.text)
    assert document_problems(document, path.read_bytes()) == []


def test_markdown_preamble_is_not_a_section() -> None:
    document = MarkdownExtractor().extract(FIXTURES / "guide.md")
    assert document.text.index("Intro paragraph") < document.sections[0].start


def test_markdown_title_falls_back_to_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "post.md"
    path.write_text('---\ntitle: "My Post"\n---\n\n## Only a subheading\n\nBody.\n')
    document = MarkdownExtractor().extract(path)
    assert document.title == "My Post"
    assert titles(document) == ["Only a subheading"]


def test_markdown_crlf_stays_verbatim() -> None:
    path = FIXTURES / "crlf.md"
    document = extract(path)
    assert document.verbatim
    assert document.text.encode() == path.read_bytes()
    assert titles(document) == ["Windows", "Windows > Part two"]
    assert section_texts(document)[1] == "## Part two\r\n\r\nLine two\r\n"


def test_markdown_with_bom_is_not_verbatim() -> None:
    document = extract(FIXTURES / "bom.md")
    assert not document.verbatim
    assert document.text == "BOM first line\nsecond line\n"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("# Title #", [(1, "Title")]),
        ("#Not a heading", []),
        ("    # indented code", []),
        ("###### six", [(6, "six")]),
        ("####### seven", []),
        ("#", [(1, "")]),
        ("para\nline two\n===", [(1, "para line two")]),
        ("\n---\n", []),
        ("> quoted\n---", []),
        ("````\n```\n# inside\n````\n# after", [(1, "after")]),
        ("```\n# unterminated fence swallows the rest", []),
        ("## [Link](http://x) and `code` {#anchor}", [(2, "Link and code")]),
    ],
)
def test_markdown_heading_rules(source: str, expected: list[tuple[int, str]]) -> None:
    headings, _ = find_headings(source)
    assert [(h.level, h.title) for h in headings] == expected


def test_heading_text_strips_inline_markup() -> None:
    assert heading_text("**Bold** ![img](x.png) `x`") == "Bold img x"


# reStructuredText ----------------------------------------------------------------------


def test_rst_sections_and_levels() -> None:
    path = FIXTURES / "manual.rst"
    document = RstExtractor().extract(path)
    assert document.kind == "rst"
    assert document.verbatim
    assert document.title == "Sleuth Manual"
    assert titles(document) == [
        "Sleuth Manual",
        "Sleuth Manual > Installation",
        "Sleuth Manual > Installation > From source",
        "Sleuth Manual > Usage",
        "Sleuth Manual > Usage > Searching",
    ]
    texts = section_texts(document)
    assert texts[0].startswith("==============\n Sleuth Manual\n")
    # The dashes inside the literal block and the "----" transition are no titles.
    assert "pip install sleuth" in texts[1]
    assert "----\n" in texts[3]
    assert document_problems(document, path.read_bytes()) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("Title\n=====", [(1, "Title")]),
        ("Title\n===", []),
        ("A\n==\n\nB\n--\n\nC\n==", [(1, "A"), (2, "B"), (1, "C")]),
        ("text\nTitle\n=====", []),
        ("\n-----\n\nafter", []),
        ("``code`` title\n==============", [(1, "code title")]),
    ],
)
def test_rst_heading_rules(source: str, expected: list[tuple[int, str]]) -> None:
    assert [(h.level, h.title) for h in rst_headings(source)] == expected


@pytest.mark.parametrize(
    "source",
    [
        "# a" + " " * 100_000 + "b\n",
        "# a" + " " * 100_000 + "#x\n",
        "---\ntitle: a" + " " * 100_000 + "b\n---\n",
        "# " + "[" * 100_000 + "\n",
    ],
)
def test_markdown_long_lines_stay_linear(source: str) -> None:
    started = time.monotonic()
    find_headings(source)
    assert time.monotonic() - started < 5
