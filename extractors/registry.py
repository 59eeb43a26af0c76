"""Which extractor handles which file: every suffix and file name, in one place.

Lookup order: exact file name (``Makefile``, ``README``; case-insensitive), then the
lowercased suffix, then content sniffing (no NUL byte in the first 8 KiB and the bytes
decode as text → plain text). Anything else has no extractor.

Importing this module is cheap: extractors import heavy libraries (pypdf) only when a
file of theirs is extracted.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from sleuth.extractors.base import Document, ExtractionError, Extractor
from sleuth.extractors.code import CodeExtractor
from sleuth.extractors.docx import DocxExtractor
from sleuth.extractors.eml import EmailExtractor
from sleuth.extractors.html import HtmlExtractor
from sleuth.extractors.ipynb import NotebookExtractor
from sleuth.extractors.markdown import MarkdownExtractor
from sleuth.extractors.pdf import PdfExtractor
from sleuth.extractors.rst import RstExtractor
from sleuth.extractors.text import TextExtractor
from sleuth.extractors.textio import SNIFF_BYTES, looks_like_text
from sleuth.extractors.validate import document_problems

TEXT = TextExtractor()
MARKDOWN = MarkdownExtractor()
RST = RstExtractor()
PDF = PdfExtractor()
HTML = HtmlExtractor()
DOCX = DocxExtractor()
NOTEBOOK = NotebookExtractor()
EMAIL = EmailExtractor()

# Source languages by suffix. The language picks the definition heuristics in code.py;
# every one of them is kind "code".
_CODE_SUFFIXES: dict[str, tuple[str, ...]] = {
    "python": (".py", ".pyi", ".pyw"),
    "javascript": (".js", ".mjs", ".cjs", ".jsx"),
    "typescript": (".ts", ".tsx", ".mts", ".cts"),
    "java": (".java",),
    "kotlin": (".kt", ".kts"),
    "scala": (".scala", ".sc"),
    "groovy": (".groovy", ".gradle"),
    "go": (".go",),
    "rust": (".rs",),
    "c": (".c", ".h"),
    "cpp": (".cc", ".cpp", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".h++", ".ino", ".cu"),
    "csharp": (".cs",),
    "objc": (".m", ".mm"),
    "swift": (".swift",),
    "dart": (".dart",),
    "d": (".d",),
    "zig": (".zig",),
    "nim": (".nim",),
    "ruby": (".rb", ".rake", ".gemspec"),
    "php": (".php",),
    "perl": (".pl", ".pm"),
    "lua": (".lua",),
    "r": (".r",),
    "julia": (".jl",),
    "haskell": (".hs", ".lhs"),
    "ocaml": (".ml", ".mli"),
    "fsharp": (".fs", ".fsi", ".fsx"),
    "elixir": (".ex", ".exs"),
    "erlang": (".erl", ".hrl"),
    "clojure": (".clj", ".cljs", ".cljc", ".edn"),
    "lisp": (".lisp", ".lsp", ".cl"),
    "scheme": (".scm", ".ss", ".rkt"),
    "elisp": (".el",),
    "fortran": (".f90", ".f95", ".f03", ".f08", ".f", ".for"),
    "pascal": (".pas", ".pp"),
    "tcl": (".tcl",),
    "shell": (".sh", ".bash", ".zsh", ".fish", ".ksh"),
    "powershell": (".ps1", ".psm1"),
    "vim": (".vim",),
    "sql": (".sql",),
    "proto": (".proto",),
    "graphql": (".graphql", ".gql"),
    "terraform": (".tf", ".hcl"),
    "nix": (".nix",),
    "starlark": (".bzl", ".star"),
    "cmake": (".cmake",),
    "make": (".mk", ".mak"),
    "toml": (".toml",),
    "ini": (".ini", ".cfg", ".conf", ".properties", ".editorconfig"),
    "yaml": (".yaml", ".yml"),
    "json": (".json", ".jsonc", ".json5"),
    "css": (".css", ".scss", ".sass", ".less"),
    "vue": (".vue",),
    "svelte": (".svelte",),
}

# Exact file names (compared lowercased) that say more than their (missing) suffix.
_CODE_NAMES: dict[str, str] = {
    "makefile": "make",
    "gnumakefile": "make",
    "dockerfile": "dockerfile",
    "containerfile": "dockerfile",
    "cmakelists.txt": "cmake",
    "jenkinsfile": "groovy",
    "vagrantfile": "ruby",
    "rakefile": "ruby",
    "gemfile": "ruby",
    "podfile": "ruby",
    "build.bazel": "starlark",
    "workspace.bazel": "starlark",
    ".bashrc": "shell",
    ".bash_profile": "shell",
    ".zshrc": "shell",
    ".profile": "shell",
    ".gitconfig": "ini",
    ".editorconfig": "ini",
}

_NAMED: dict[str, Extractor] = {
    **{name: CodeExtractor(language) for name, language in _CODE_NAMES.items()},
    **dict.fromkeys(
        ("readme", "license", "licence", "copying", "authors", "contributors", "changelog",
         "changes", "notice", ".gitignore", ".dockerignore"),
        TEXT,
    ),
}  # fmt: skip

_CODE: dict[str, Extractor] = {
    suffix: extractor
    for language, suffixes in _CODE_SUFFIXES.items()
    for extractor in (CodeExtractor(language),)
    for suffix in suffixes
}

_SUFFIXED: dict[str, Extractor] = {
    **_CODE,
    **dict.fromkeys((".txt", ".text", ".log", ".csv", ".tsv", ".tex", ".org", ".adoc"), TEXT),
    **dict.fromkeys((".md", ".markdown", ".mdx", ".mkd", ".mdown"), MARKDOWN),
    **dict.fromkeys((".rst", ".rest"), RST),
    ".pdf": PDF,
    **dict.fromkeys((".html", ".htm", ".xhtml"), HTML),
    ".docx": DOCX,
    ".ipynb": NOTEBOOK,
    ".eml": EMAIL,
}

#: Extractor for each exact file name (lowercase).
BY_NAME: Mapping[str, Extractor] = MappingProxyType(_NAMED)
#: Extractor for each suffix (lowercase, with the dot).
BY_SUFFIX: Mapping[str, Extractor] = MappingProxyType(_SUFFIXED)
#: Every kind an extractor can report; the values a ``--type`` filter accepts.
KINDS: frozenset[str] = frozenset(
    extractor.kind for extractor in (*_SUFFIXED.values(), *_NAMED.values(), TEXT)
)
#: Suffixes handled as source code.
CODE_SUFFIXES: frozenset[str] = frozenset(_CODE)


def extractor_by_name(path: Path) -> Extractor | None:
    """The extractor chosen by file name or suffix alone, without reading the file."""
    name = path.name.lower()
    named = _NAMED.get(name)
    if named is not None:
        return named
    if name.startswith(("dockerfile.", "makefile.")):
        return _NAMED[name.split(".", 1)[0]]
    return _SUFFIXED.get(path.suffix.lower())


def kind_for_suffix(suffix: str) -> str | None:
    """The kind for a suffix such as ``".PY"`` or ``"md"`` (the dot is optional)."""
    key = suffix.lower() if suffix.startswith(".") else f".{suffix.lower()}"
    extractor = _SUFFIXED.get(key)
    return extractor.kind if extractor is not None else None


def kind_for_path(path: Path) -> str | None:
    """The kind a file would be extracted as, judged by its name only (no sniffing)."""
    extractor = extractor_by_name(path)
    return extractor.kind if extractor is not None else None


def suffixes_for_kind(kind: str) -> frozenset[str]:
    """All suffixes whose files are of ``kind`` (unknown kinds give an empty set)."""
    return frozenset(suffix for suffix, ex in _SUFFIXED.items() if ex.kind == kind)


def extractor_for(path: Path, head: bytes | None = None) -> Extractor | None:
    """The extractor for ``path``, or ``None`` when the file is not worth extracting.

    ``head`` is the file's first bytes if the caller has read them already; it is only
    needed (and the file only read) when neither name nor suffix is known. An unreadable
    file of unknown type has no extractor.
    """
    extractor = extractor_by_name(path)
    if extractor is not None:
        return extractor
    if head is None:
        try:
            with path.open("rb") as stream:
                head = stream.read(SNIFF_BYTES)
        except OSError:
            return None
    return TEXT if looks_like_text(head[:SNIFF_BYTES]) else None


def extract(path: Path) -> Document:
    """Extract ``path`` with its extractor; every failure is an :class:`ExtractionError`."""
    extractor = extractor_for(path)
    if extractor is None:
        raise ExtractionError("unsupported file type")
    try:
        document = extractor.extract(path)
    except OSError as exc:
        raise ExtractionError(f"cannot read file: {exc.strerror or exc}") from exc
    except RecursionError as exc:
        raise ExtractionError("file too deeply nested") from exc
    problems = document_problems(document)
    if problems:
        # A bug in an extractor must cost one file, not the whole indexing run.
        raise ExtractionError(f"internal extractor error: {problems[0]}")
    return document
