"""Text no one searches: lockfiles, minified and generated code, source maps, data dumps and
binary-like text. Embedding it costs as much CPU as real prose (a 200 KB JSON of brackets is
800 chunks) and its chunks crowd real answers out of the results.

The rules read what a file says about itself and measure its shape; nothing is guessed from a
folder's name (``node_modules`` and the like are the ignore rules' job). In order:

``lockfile``     a package manager's lockfile, by its well-known name (package-lock.json,
                 yarn.lock, Cargo.lock, poetry.lock, go.sum, ...)
``minified``     ``*.min.js`` / ``*.min.css`` by name; or, by shape, most bytes in lines over
                 1,000 bytes with little whitespace and many symbols (prose written one
                 paragraph per line has ~15% spaces and few symbols, and is kept)
``source-map``   ``*.js.map`` / ``*.css.map``, or a ``.map`` file that opens as a v3 source map
``generated``    a generator's marker in the first lines of code or data ("Code generated ...
                 DO NOT EDIT", "@generated", "This file was automatically generated", ...);
                 never for prose formats (Markdown, reST, plain text), which people read
                 whoever wrote them
``data-dump``    under a quarter of the non-space characters are letters: numbers, brackets
                 and separators (numeric CSV/TSV, JSON arrays, coordinate lists)
``binary-like``  control characters, or mostly long base64/hex runs (embedded blobs)

Content rules look at the first :data:`SAMPLE_BYTES` of files of at least
:data:`MIN_SHAPE_BYTES` (smaller ones are a chunk or two: not worth a guess). In code a
data-dump needs under 15% letters (formulas are code too). Formats whose
extractor keeps only the prose (HTML, notebooks, e-mail, PDF, DOCX) are judged by name only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "JUNK_REASONS",
    "LOCKFILES",
    "MIN_SHAPE_BYTES",
    "SAMPLE_BYTES",
    "JunkReason",
    "Shape",
    "judge_content",
    "judge_name",
    "measure",
]

JunkReason = Literal["lockfile", "minified", "source-map", "generated", "data-dump", "binary-like"]
JUNK_REASONS: frozenset[str] = frozenset(
    {"lockfile", "minified", "source-map", "generated", "data-dump", "binary-like"}
)
Verdict = tuple[JunkReason, str]

SAMPLE_BYTES = 16 * 1024
MIN_SHAPE_BYTES = 4 * 1024
LONG_LINE = 1000  # bytes; minifiers emit lines of tens of thousands
MARKER_LINES = 10  # generators write their notice at the very top
BASE64_RUN = 200  # characters without a break: no word, identifier or path is that long

LOCKFILES = frozenset(
    {
        "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lock",
        "deno.lock", "poetry.lock", "pdm.lock", "uv.lock", "pipfile.lock", "cargo.lock",
        "gemfile.lock", "composer.lock", "go.sum", "gopkg.lock", "glide.lock", "flake.lock",
        "podfile.lock", "pubspec.lock", "mix.lock", "packages.lock.json", "paket.lock",
        "gradle.lockfile", "package.resolved", "conan.lock", "renv.lock", "cartfile.resolved",
        ".terraform.lock.hcl", "esy.lock", "shard.lock", "stack.yaml.lock", "cabal.project.freeze",
    }
)  # fmt: skip
"""Lowercased file names that are always a package manager's lockfile."""

_MINIFIED_NAMES = (".min.js", ".min.mjs", ".min.cjs", ".min.css", "-min.js", "-min.css")
_SOURCE_MAP_NAMES = (".js.map", ".mjs.map", ".cjs.map", ".css.map")

# The extractor of these keeps only their prose (tags, outputs, attachments are dropped), so
# a raw-byte shape says nothing about what would be indexed.
_EXTRACTED = frozenset({".html", ".htm", ".xhtml", ".ipynb", ".eml", ".pdf", ".docx"})
# Written for people to read, whoever wrote them: a generator's notice does not make them junk.
_PROSE = frozenset(
    {"", ".md", ".markdown", ".mdx", ".mkd", ".mdown", ".rst", ".rest", ".txt", ".text",
     ".tex", ".org", ".adoc"}
)  # fmt: skip

# Formats that exist to hold data; elsewhere (code) a numeric table needs to be denser to
# count as a dump, since code with long formulas is still code people search.
_DATA = frozenset(
    {"", ".csv", ".tsv", ".tab", ".psv", ".json", ".jsonl", ".ndjson", ".geojson", ".txt",
     ".dat", ".log", ".xml", ".yaml", ".yml", ".svg", ".out"}
)  # fmt: skip
DUMP_LETTERS = 0.25  # share of letters below which a data file is a dump
DUMP_LETTERS_CODE = 0.15

_GENERATED = re.compile(
    r"code generated\b.{0,120}\bdo not edit"  # Go's convention (go generate)
    r"|@generated\b"  # Meta's tools, Cargo, many code generators
    r"|\bdo not (?:edit|modify)\b.{0,60}\b(?:auto-?|machine[- ]|automatically )?generated\b"
    r"|\b(?:auto-?|machine[- ]|automatically )?generated\b.{0,120}\bdo not (?:edit|modify)\b"
    r"|\bthis (?:file|code|module) (?:is|was|has been) (?:automatically |auto-?|machine[- ])"
    r"generated\b"
    r"|\bauto-?generated (?:file|code|module)\b"
    r"|\bautomatically generated by\b"
    r"|\bgenerated by (?:the protocol buffer compiler|protoc\b|cython\b|swig\b|thrift\b|"
    r"bison\b|jison\b|peg\.js\b|antlr\b|flatc\b|sqlc\b|mockgen\b|stringer\b)",
    re.IGNORECASE,
)
_BASE64 = re.compile(rb"[A-Za-z0-9+/]{%d,}={0,2}" % BASE64_RUN)
_SOURCE_MAP_START = re.compile(r'\s*\{\s*"version"\s*:\s*\d')


@dataclass(frozen=True, slots=True)
class Shape:
    """Measurements of a sample, in bytes (shares of its bytes unless said otherwise).

    Counted on the UTF-8 bytes, not decoded characters: each class is one C-speed pass
    (``bytes.translate``), which keeps a walk of 30,000 files from paying for the rules. Bytes
    of multi-byte characters count as letters, as the scripts they encode (accented Latin,
    Cyrillic, CJK) are letters far more often than not.
    """

    size: int
    long_lines: float  # share of bytes in lines over LONG_LINE bytes
    whitespace: float
    letters: float  # of non-whitespace bytes
    symbols: float  # of non-whitespace bytes: neither letter nor digit
    control: float  # C0 controls other than tab, newline, CR, FF, VT; and DEL
    base64: float  # in runs of BASE64_RUN+ base64/hex characters


_WHITESPACE = b" \t\n\r\f\v"
_LETTERS = bytes(range(ord("A"), ord("Z") + 1)) + bytes(range(ord("a"), ord("z") + 1))
_LETTERS += bytes(range(0x80, 0x100))
_DIGITS = b"0123456789"
_CONTROL = bytes(c for c in range(32) if chr(c) not in "\t\n\r\f\v") + b"\x7f"


def _count(data: bytes, members: bytes) -> int:
    return len(data) - len(data.translate(None, members))


def measure(data: bytes) -> Shape:
    size = len(data)
    if size == 0:
        return Shape(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    # Lengths in C first: most files have no long line, and a Python pass over every line
    # was half the CPU of reconciling 10k unchanged files with the disk.
    lengths = list(map(len, data.split(b"\n")))
    long_bytes = sum(n for n in lengths if n > LONG_LINE) if max(lengths) > LONG_LINE else 0
    spaces = _count(data, _WHITESPACE)
    visible = max(size - spaces, 1)
    letters = _count(data, _LETTERS)
    symbols = visible - letters - _count(data, _DIGITS)
    # Blobs leave no room for whitespace; only then is the (slow) scan for runs worth it.
    blobs = 0
    if spaces < 0.05 * size:
        blobs = sum(m.end() - m.start() for m in _BASE64.finditer(data))
    return Shape(
        size,
        long_bytes / size,
        spaces / size,
        letters / visible,
        max(symbols, 0) / visible,
        _count(data, _CONTROL) / size,
        blobs / size,
    )


def judge_name(name: str, suffix: str) -> Verdict | None:
    """The junk a file is by its name alone (``suffix``: lowercased, with the dot)."""
    lower = name.lower()
    if lower in LOCKFILES:
        return "lockfile", "a package manager's lockfile"
    if lower.endswith(_MINIFIED_NAMES):
        return "minified", "named as minified"
    if lower.endswith(_SOURCE_MAP_NAMES):
        return "source-map", "named as a source map"
    if lower.startswith(".pnp.") and suffix in (".js", ".cjs", ".mjs"):
        return "generated", "Yarn Plug'n'Play loader"
    return None


def judge_content(name: str, suffix: str, sample: bytes, size: int) -> Verdict | None:
    """The junk a file is by its first bytes (``sample``) and its ``size``, or None."""
    if suffix in _EXTRACTED:
        return None
    text = sample[:4000].decode("utf-8", "replace")
    if suffix == ".map" and _SOURCE_MAP_START.match(text):
        return "source-map", "a source map"
    if size < MIN_SHAPE_BYTES:
        return None
    if suffix not in _PROSE:
        head = "\n".join(text.split("\n", MARKER_LINES)[:MARKER_LINES])
        found = _GENERATED.search(head)
        if found is not None:
            return "generated", f"says {_quote(found.group(0))}"
    if size > len(sample) and b"\n" in sample:
        sample = sample[: sample.rfind(b"\n")]  # a cut line would look shorter than it is
    return judge_shape(measure(sample), DUMP_LETTERS if suffix in _DATA else DUMP_LETTERS_CODE)


def judge_shape(shape: Shape, dump_letters: float = DUMP_LETTERS) -> Verdict | None:
    if shape.control >= 0.02:
        return "binary-like", f"{shape.control:.0%} control characters"
    if shape.base64 >= 0.75:
        return "binary-like", f"{shape.base64:.0%} base64 or hex runs"
    if shape.letters < dump_letters:
        return "data-dump", f"{shape.letters:.0%} letters"
    if shape.long_lines >= 0.5 and shape.whitespace < 0.12 and shape.symbols >= 0.2:
        return "minified", (
            f"{shape.long_lines:.0%} in lines over {LONG_LINE} bytes, "
            f"{shape.whitespace:.0%} whitespace"
        )
    return None


def _quote(text: str) -> str:
    flat = " ".join(text.split())
    return f'"{flat[:60]}"'
