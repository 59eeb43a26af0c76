"""Source code: definition sections for Python (ast) and the line heuristics."""

from __future__ import annotations

from pathlib import Path

import pytest

from sleuth.extractors.base import Document
from sleuth.extractors.code import CodeExtractor, find_sections
from sleuth.extractors.registry import extract
from sleuth.extractors.validate import document_problems

FIXTURES = Path(__file__).parent / "fixtures" / "extractors"


def titles(document: Document) -> list[str]:
    return [section.title for section in document.sections]


def section_text(document: Document, title: str) -> str:
    section = next(s for s in document.sections if s.title == title)
    return document.text[section.start : section.end]


def sections_of(source: str, language: str) -> list[tuple[str, str]]:
    found = find_sections(source, language)
    return [(s.title, source[s.start : s.end]) for s in found]


@pytest.mark.parametrize("name", ["sample.py", "app.js", "server.go", "Makefile"])
def test_code_fixtures_are_verbatim_and_well_formed(name: str) -> None:
    path = FIXTURES / name
    document = extract(path)
    assert document.kind == "code"
    assert document.verbatim
    assert document.title == name
    assert document.text.encode() == path.read_bytes()
    assert document_problems(document, path.read_bytes()) == []


def test_python_sections_come_from_the_syntax_tree() -> None:
    document = extract(FIXTURES / "sample.py")
    # "class NotReal" inside the module docstring is not a definition.
    assert titles(document) == ["def parse_args", "def cached", "class Index", "async def fetch"]
    assert section_text(document, "def parse_args").startswith(
        "# A comment that belongs to parse_args.\ndef parse_args("
    )
    cached = section_text(document, "def cached")
    assert cached.startswith("@functools.cache\n@functools.wraps(print)\ndef cached()")
    assert cached.endswith("    return 1\n")
    index = section_text(document, "class Index")
    assert "def remove" in index
    assert index.endswith("        pass\n")
    # Module-level statements between definitions belong to no section.
    assert "CONSTANT" not in "".join(document.text[s.start : s.end] for s in document.sections)


# Kept out of the fixtures folder: a file with a syntax error would fail `ruff check .`.
BROKEN_PYTHON = "def ok():\n    return 1\n\ndef broken(:\n    pass\n\nclass Later:\n    pass\n"


def test_python_that_does_not_parse_falls_back_to_regex(tmp_path: Path) -> None:
    path = tmp_path / "broken.py"
    path.write_text(BROKEN_PYTHON)
    document = extract(path)
    assert document.verbatim
    assert titles(document) == ["def ok", "def broken", "class Later"]
    assert section_text(document, "class Later") == "class Later:\n    pass\n"


def test_python_with_crlf_and_decorated_async() -> None:
    source = "import x\r\n\r\n@dec\r\nasync def run():\r\n    pass\r\n"
    assert sections_of(source, "python") == [
        ("async def run", "@dec\r\nasync def run():\r\n    pass\r\n")
    ]


def test_python_invalid_escape_warning_is_silent(recwarn: pytest.WarningsRecorder) -> None:
    assert sections_of('def f():\n    return "\\d"\n', "python")[0][0] == "def f"
    assert not recwarn.list


def test_javascript_sections() -> None:
    document = extract(FIXTURES / "app.js")
    assert titles(document) == ["function add", "const multiply", "class Calculator"]
    assert section_text(document, "function add").startswith("/**\n * Adds two numbers.\n */\n")


def test_go_sections() -> None:
    document = extract(FIXTURES / "server.go")
    assert titles(document) == ["type Server", "func Server.Handle", "func main"]
    assert section_text(document, "func Server.Handle").startswith("// Handle serves one request.")
    assert document.text.index("import (") < document.sections[0].start


def test_makefile_targets() -> None:
    document = extract(FIXTURES / "Makefile")
    assert titles(document) == ["all", "clean"]


RUST = """\
use std::fmt;

/// A point.
#[derive(Debug)]
pub struct Point {
    x: i32,
}

impl fmt::Display for Point {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}", self.x)
    }
}

pub(crate) async fn load() {}
"""

C = """\
#include <stdio.h>

static int counter;

static int
add(int a, int b)
{
    return a + b;
}

int main(int argc,
         char **argv) {
    if (argc) {
        return add(1, 2);
    }
    return 0;
}

int prototype(void);
"""


@pytest.mark.parametrize(
    ("language", "source", "expected"),
    [
        ("rust", RUST, ["struct Point", "impl fmt::Display for Point", "fn load"]),
        ("c", C, ["add()", "main()"]),
        ("java", "package a;\n\n@Entity\npublic final class User {\n}\n", ["class User"]),
        ("kotlin", "fun <T> List<T>.second(): T = this[1]\n\ndata class P(val x: Int)\n",
         ["fun List<T>.second", "class P"]),
        ("ruby", "require 'x'\n\nmodule Util\n  def self.a; end\nend\n\ndef top?\nend\n",
         ["module Util", "def top?"]),
        ("shell", "#!/bin/sh\nset -e\n\nusage() {\n  echo hi\n}\n\nfunction main {\n}\n",
         ["usage()", "function main"]),
        ("typescript", "export interface A {}\nexport type B = string;\n",
         ["interface A", "type B"]),
        ("sql", "-- users\nCREATE TABLE IF NOT EXISTS users (id int);\ncreate or replace view v as "
                "select 1;\n", ["TABLE users", "view v"]),
        ("yaml", "# config\nname: demo\nservices:\n  web: {}\n", ["name", "services"]),
        ("toml", "[project]\nname = 'x'\n\n[[tool.items]]\n", ["[project]", "[[tool.items]]"]),
        ("clojure", "(ns demo)\n\n(defn greet [x]\n  x)\n", ["defn greet"]),
        ("erlang", "-module(m).\n\nf(0) -> 1;\nf(N) -> N.\n\ng() -> ok.\n", ["f", "g"]),
        ("haskell", "module M where\n\nf :: Int\nf = 1\n\ndata T = T\n", ["f", "data T"]),
        ("dockerfile", "FROM python:3.11 AS build\nRUN x\nFROM scratch\n",
         ["FROM python:3.11 AS build", "FROM scratch"]),
        ("css", "/* theme */\nbody {\n  margin: 0;\n}\n@media print {\n}\n",
         ["body", "@media print"]),
        ("vue", "<template>\n  <p/>\n</template>\n\n<script>\nexport default {}\n</script>\n",
         ["<template>", "<script>"]),
        ("fortran", "PROGRAM demo\nEND PROGRAM\n\nsubroutine s(x)\nend subroutine\n",
         ["PROGRAM demo", "subroutine s"]),
        ("r", "library(x)\n\nsquare <- function(x) x^2\n", ["square"]),
        ("json", '{\n  "a": 1\n}\n', []),
    ],
)  # fmt: skip
def test_heuristic_sections(language: str, source: str, expected: list[str]) -> None:
    found = sections_of(source, language)
    assert [title for title, _ in found] == expected
    if found:
        assert source.endswith(found[-1][1])


def test_c_sections_include_return_type_line_and_span_to_next() -> None:
    found = dict(sections_of(C, "c"))
    assert found["add()"].startswith("static int\nadd(int a, int b)\n{")
    assert found["main()"].startswith("int main(int argc,")
    assert found["main()"].endswith("int prototype(void);\n")


def test_rust_attributes_and_doc_comments_belong_to_the_definition() -> None:
    found = dict(sections_of(RUST, "rust"))
    assert found["struct Point"].startswith("/// A point.\n#[derive(Debug)]\npub struct Point")


def test_minified_lines_are_not_scanned() -> None:
    source = "function a(){}" * 200 + "\n"
    assert sections_of(source, "javascript") == []


def test_cp1252_source_is_decoded_but_not_verbatim(tmp_path: Path) -> None:
    path = tmp_path / "legacy.c"
    path.write_bytes(b"/* caf\xe9 */\nint main(void) {\n  return 0;\n}\n")
    document = extract(path)
    assert not document.verbatim
    assert titles(document) == ["main()"]
    assert document.text.startswith("/* café */")


def test_code_extractor_repr_names_language() -> None:
    assert repr(CodeExtractor("go")) == "CodeExtractor('go')"
