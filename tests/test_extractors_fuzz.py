"""Hostile input: extract() returns a well-formed Document or raises ExtractionError, only."""

from __future__ import annotations

import io
import json
import zipfile
from itertools import count
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pdfgen import make_pdf

from sleuth.extractors.base import ExtractionError
from sleuth.extractors.registry import extract
from sleuth.extractors.validate import document_problems

SUFFIXES = [".txt", ".md", ".rst", ".py", ".js", ".html", ".ipynb", ".eml", ".docx", ".pdf"]

FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_names = count()


def _docx_seed() -> bytes:
    buffer = io.BytesIO()
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "word/document.xml",
            f'<w:document xmlns:w="{w}"><w:body><w:p><w:pPr><w:pStyle w:val="Heading1"/>'
            "</w:pPr><w:r><w:t>Heading</w:t></w:r></w:p><w:p><w:r><w:t>Body</w:t></w:r></w:p>"
            "</w:body></w:document>",
        )
    return buffer.getvalue()


SEEDS: dict[str, bytes] = {
    ".txt": b"hello\nworld\n",
    ".md": b"# Title\n\n```\n# x\n```\n\nSub\n---\n",
    ".rst": b"=====\nTitle\n=====\n\nSub\n---\n",
    ".py": b"@d\ndef f():\n    pass\n\nclass A:\n    x = 1\n",
    ".js": b"export function f() {\n}\nint main(void)\n{\n}\n",
    ".html": b"<title>t</title><h1>a</h1><p>b<pre>\nc</pre><h2>d</h2><script>x</script>",
    ".ipynb": json.dumps(
        {"cells": [{"cell_type": "markdown", "source": ["# a\n", "b"]}, {"cell_type": "code"}]}
    ).encode(),
    ".eml": b"Subject: s\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
    b"Content-Type: text/html\r\n\r\n<p>x</p>\r\n--b--\r\n",
    ".docx": _docx_seed(),
    ".pdf": make_pdf(["first page", "second page"], title="T"),
}


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """``seed`` with a few bytes overwritten, inserted or cut away."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 8))):
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        action = draw(st.sampled_from(["set", "insert", "delete", "truncate"]))
        value = draw(st.integers(0, 255))
        if action == "set" and data:
            data[position] = value
        elif action == "insert":
            data.insert(position, value)
        elif action == "delete" and data:
            del data[position]
        elif action == "truncate":
            del data[position:]
    return bytes(data)


def check(directory: Path, suffix: str, data: bytes) -> None:
    path = directory / f"sample{next(_names)}{suffix}"
    path.write_bytes(data)
    try:
        document = extract(path)
    except ExtractionError:
        return
    finally:
        path.unlink()
    assert document_problems(document, data) == []


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.mark.parametrize("suffix", SUFFIXES)
@FUZZ
@given(data=st.binary(max_size=2048))
def test_random_bytes(workdir: Path, suffix: str, data: bytes) -> None:
    check(workdir, suffix, data)


@pytest.mark.parametrize("suffix", SUFFIXES)
@FUZZ
@given(text=st.text(max_size=500))
def test_random_text(workdir: Path, suffix: str, text: str) -> None:
    check(workdir, suffix, text.encode("utf-8", errors="surrogatepass"))


@pytest.mark.parametrize("suffix", SUFFIXES)
@FUZZ
@given(data=st.data())
def test_mutated_valid_files(workdir: Path, suffix: str, data: st.DataObject) -> None:
    check(workdir, suffix, data.draw(mutated(SEEDS[suffix])))


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_valid_seeds_extract(workdir: Path, suffix: str) -> None:
    path = workdir / f"seed{suffix}"
    path.write_bytes(SEEDS[suffix])
    assert document_problems(extract(path), SEEDS[suffix]) == []


_CODE_TOKENS = st.sampled_from(
    ["\n", "\r\n", "\r", " ", "\t", "def ", "class ", "fn ", "func ", "(", ")", "{", "}", ";",
     "@d\n", "#[x]\n", "// c\n", "# c\n", "/**\n", " */\n", "impl X ", "pub ", "int main",
     "[sec]\n", "key: v\n", "all:\n", "FROM x AS y\n", "(defun f", "<script>", "x", "=>",
     "const f = () =>", "CREATE TABLE t", "f(X) ->", "a :: Int\n", "\"\"\"", "'''"]
)  # fmt: skip
_MARKUP_TOKENS = st.sampled_from(
    ["<", ">", "/", "p", "h1", "h2", "pre", "br", "li", "title", "script", "svg", "<!--",
     "-->", "<![", "]]>", "&amp;", "&#", ";", " ", "\n", "x", "=", '"', "'", "#", "=====",
     "-----", "```", "~~~", "---\n", "title: t\n", "> ", "- ", "    "]
)  # fmt: skip


@FUZZ
@given(
    source=st.lists(_CODE_TOKENS, max_size=60).map("".join),
    language=st.sampled_from(
        ["python", "c", "rust", "go", "javascript", "sql", "yaml", "toml", "make", "dockerfile",
         "lisp", "haskell", "erlang", "r", "fortran", "css", "vue", "json", "shell"]
    ),
)  # fmt: skip
def test_code_sections_always_well_formed(source: str, language: str) -> None:
    from sleuth.extractors.base import Document
    from sleuth.extractors.code import find_sections

    document = Document(source, "code", sections=find_sections(source, language))
    assert document_problems(document) == []


@FUZZ
@given(markup=st.lists(_MARKUP_TOKENS, max_size=80).map("".join))
def test_markup_sections_always_well_formed(workdir: Path, markup: str) -> None:
    for suffix in (".html", ".md", ".rst"):
        check(workdir, suffix, markup.encode())
