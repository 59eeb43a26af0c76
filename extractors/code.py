"""Source code: verbatim text with one section per top-level definition.

Python is parsed with :mod:`ast`. Every other language gets line-based heuristics: a
definition starts at column 0 (``fn``, ``class``, ``func (r *T) Name``, a C-style
``type name(...)`` line followed by ``{``, ``[section]`` in INI files, ...) and its section
runs until the next definition. Comments, decorators and attributes directly above a
definition belong to its section.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sleuth.extractors.base import Document, Section
from sleuth.extractors.textio import iter_lines, line_starts, read_text

# Minified bundles and data blobs have enormous lines; definitions never live there.
_MAX_LINE = 1000
# How far a C-style signature may spread over lines before its opening brace.
_SIGNATURE_LINES = 6
# How many comment/attribute lines above a definition may be pulled into its section.
_MAX_PREAMBLE = 50

# Languages whose line comments start with "#"; elsewhere "#" is a preprocessor line.
_HASH_COMMENTS = frozenset(
    {
        "python", "ruby", "shell", "powershell", "perl", "r", "julia", "elixir", "nim",
        "tcl", "yaml", "toml", "make", "dockerfile", "cmake", "coffeescript", "crystal",
        "graphql", "ini", "nix", "starlark", "terraform",
    }
)  # fmt: skip

# Leading whitespace is allowed so the inner lines of /** ... */ blocks count too.
_COMMENT_PREFIXES = ("//", "/*", "*", "--", ";", "%", "(*", "{-")


@dataclass(frozen=True, slots=True)
class _Definition:
    line: int
    title: str
    c_style: bool = False


_Finder = Callable[[list[tuple[int, str]]], list[_Definition]]

_NAME = r"(?:<[^>]*>\s*)?([A-Za-z_$][\w$.:!?'-]*(?:<[^<>]*>[\w$.:!?'-]*)*)"
_MODIFIERS = (
    r"(?:(?:export|default|public|private|protected|internal|static|final|abstract|sealed|"
    r"open|data|inline|async|unsafe|extern(?:\s+\"[^\"]*\")?|const|pub(?:\([^)]*\))?|"
    r"override|partial|virtual|declare|local|readonly|suspend|tailrec|operator|infix|"
    r"external|expect|actual|annotation|companion|value|case|enum(?=\s+class)|"
    r"@\w+(?:\([^)]*\))?)\s+)*"
)
_KEYWORDS = (
    r"(function[*!]?|func|fn|fun|def|defp|defmodule|defmacro|class|struct|union|interface|"
    r"trait|enum|type|module|mod|namespace|object|record|protocol|extension|actor|proc|"
    r"sub|method|iterator|macro|macro_rules!|message|service|contract|library|"
    r"@interface|@implementation|@protocol)"
)
_KEYWORD_DEF = re.compile(_MODIFIERS + _KEYWORDS + r"\s+" + _NAME)
_GO_METHOD = re.compile(r"func\s*\(\s*(?:\w+\s+)?\*?(\w+)[^)]*\)\s*(\w+)")
_IMPL = re.compile(r"(?:pub(?:\([^)]*\))?\s+)?(?:unsafe\s+)?impl\b(?:\s*<[^>]*>)?\s*(.+?)\s*\{?$")
_TYPEDEF = re.compile(r"typedef\s+(.+?)\s*\{?$")
_BINDING_DEF = re.compile(
    r"(?:export\s+)?(?:pub\s+)?(const|let|var)\s+([\w$]+)\s*(?::[^=]+)?=\s*(?:async\s+)?"
    r"(?:function\b|[\w$]+\s*=>|\(.*=>|\($|(?:extern\s+|packed\s+)?(?:struct|enum|union)\b)"
)
_C_SIGNATURE = re.compile(r"(?:[\w:*&<>,~\[\]]+\s+)*[*&]*([A-Za-z_~][\w:~]*)\s*\(")
_C_NOT_A_NAME = frozenset(
    {
        "if", "for", "while", "switch", "return", "else", "do", "catch", "sizeof", "elif",
        "foreach", "with", "case", "defined", "new", "delete", "throw", "typeof", "assert",
        "until", "unless", "try", "using", "lock", "when", "match",
    }
)  # fmt: skip
_C_TYPE_LINE = re.compile(r"(?:template\s*<.*>|[A-Za-z_][\w\s*&:<>,]*)")


def _clean_name(name: str) -> str:
    return name.rstrip(".:-")


def _generic(lines: list[tuple[int, str]]) -> list[_Definition]:
    found: list[_Definition] = []
    for index, (_, line) in enumerate(lines):
        if not line or line[0].isspace() or len(line) > _MAX_LINE:
            continue
        if line.startswith(("func ", "func(")):
            method = _GO_METHOD.match(line)
            if method:
                found.append(_Definition(index, f"func {method.group(1)}.{method.group(2)}"))
                continue
        impl = _IMPL.match(line)
        if impl:
            found.append(_Definition(index, f"impl {impl.group(1)}"[:100]))
            continue
        typedef = _TYPEDEF.match(line)
        if typedef and line.rstrip().endswith("{"):
            found.append(_Definition(index, f"typedef {typedef.group(1)}"[:100]))
            continue
        keyword = _KEYWORD_DEF.match(line)
        if keyword:
            word = keyword.group(1).rstrip("*")
            if word != "macro_rules!":
                word = word.rstrip("!")
            found.append(_Definition(index, f"{word} {_clean_name(keyword.group(2))}"))
            continue
        binding = _BINDING_DEF.match(line)
        if binding:
            found.append(_Definition(index, f"{binding.group(1)} {binding.group(2)}"))
            continue
        signature = _C_SIGNATURE.match(line) if "(" in line else None
        if signature and signature.group(1) not in _C_NOT_A_NAME and _opens_body(lines, index):
            found.append(_Definition(index, f"{_clean_name(signature.group(1))}()", True))
    return found


def _opens_body(lines: list[tuple[int, str]], index: int) -> bool:
    """Whether a ``{`` follows before any ``;`` within the next few lines (a definition)."""
    for _, line in lines[index : index + _SIGNATURE_LINES]:
        brace = line.find("{")
        semicolon = line.find(";")
        if brace >= 0 and (semicolon < 0 or brace < semicolon):
            return True
        if semicolon >= 0:
            return False
    return False


def _pattern_finder(pattern: str, title: Callable[[re.Match[str]], str], flags: int = 0) -> _Finder:
    regex = re.compile(pattern, flags)

    def find(lines: list[tuple[int, str]]) -> list[_Definition]:
        found: list[_Definition] = []
        for index, (_, line) in enumerate(lines):
            if not line or line[0].isspace() or len(line) > _MAX_LINE:
                continue
            match = regex.match(line)
            if match:
                found.append(_Definition(index, title(match)[:100]))
        return found

    return find


def _combine(*finders: _Finder) -> _Finder:
    def find(lines: list[tuple[int, str]]) -> list[_Definition]:
        by_line: dict[int, _Definition] = {}
        for finder in finders:
            for definition in finder(lines):
                by_line.setdefault(definition.line, definition)
        return [by_line[line] for line in sorted(by_line)]

    return find


def _joined(*groups: int) -> Callable[[re.Match[str]], str]:
    return lambda m: " ".join(" ".join(m.group(g).split()) for g in groups if m.group(g))


_FINDERS: dict[str, _Finder] = {
    "generic": _generic,
    "python": _pattern_finder(r"(?:async\s+def|def|class)\s+\w+", _joined(0)),
    "sql": _pattern_finder(
        r"create\s+(?:or\s+replace\s+)?(?:temp(?:orary)?\s+)?(?:unique\s+)?"
        r"(table|view|materialized\s+view|function|procedure|index|trigger|type|schema|"
        r"sequence)\s+(?:if\s+not\s+exists\s+)?([\w.\"`\[\]]+)",
        _joined(1, 2),
        re.IGNORECASE,
    ),
    "ini": _pattern_finder(r"(\[\[?[^\]]+\]\]?)", _joined(1)),
    "yaml": _pattern_finder(r"([^\s#:{}\[\]'\"-][^:#]*?)\s*:(?:\s|$)", _joined(1)),
    "css": _pattern_finder(r"([^\s}/][^{};]*?)\s*\{", _joined(1)),
    "make": _pattern_finder(
        r"(?!\.[A-Z_]+\s*:)([\w./%$(){}-][^:=#\s]*(?:[ \t]+[^:=#\s]+)*)[ \t]*::?(?![:=])",
        _joined(1),
    ),
    "dockerfile": _pattern_finder(
        r"(FROM)\s+(\S+)(?:\s+(AS)\s+(\S+))?", _joined(1, 2, 3, 4), re.IGNORECASE
    ),
    "cmake": _pattern_finder(r"(function|macro)\s*\(\s*([\w-]+)", _joined(1, 2), re.IGNORECASE),
    "lisp": _pattern_finder(r"\((def[\w-]*|define[\w-]*)\s+\(?([^\s()]+)", _joined(1, 2)),
    "haskell": _pattern_finder(
        r"(?:(data|newtype|class|instance|type(?:\s+family)?)\s+([^\s=]+)|([a-z_][\w']*)\s*::)",
        _joined(1, 2, 3),
    ),
    "ml": _pattern_finder(
        r"(let|and|type|module|exception|val|class)\s+(?:rec\s+)?([\w']+)", _joined(1, 2)
    ),
    "erlang": _pattern_finder(r"([a-z][\w@]*|'[^']+')\s*\(", _joined(1)),
    "r": _pattern_finder(r"([\w.]+)\s*(?:<-|=)\s*function\b", _joined(1)),
    "wirth": _pattern_finder(
        r"(?:(?:pure|elemental|recursive|impure|class)\s+)*"
        r"(?:(?:integer|real|logical|character|complex|double\s+precision)(?:\*\d+)?\s+)?"
        r"(program|module|submodule|subroutine|function|procedure|constructor|destructor|"
        r"unit)\s+([\w.]+)",
        _joined(1, 2),
        re.IGNORECASE,
    ),
    "sfc": _combine(
        _pattern_finder(r"<(?:template|script|style)\b", lambda m: m.group(0) + ">"), _generic
    ),
    "none": lambda lines: [],
}

#: How each language (as named by the registry) finds its definitions.
LANGUAGE_FAMILIES: dict[str, str] = {
    "python": "python",
    "sql": "sql",
    "ini": "ini",
    "toml": "ini",
    "yaml": "yaml",
    "json": "none",
    "css": "css",
    "make": "make",
    "dockerfile": "dockerfile",
    "cmake": "cmake",
    "lisp": "lisp",
    "clojure": "lisp",
    "scheme": "lisp",
    "elisp": "lisp",
    "haskell": "haskell",
    "ocaml": "ml",
    "fsharp": "ml",
    "erlang": "erlang",
    "r": "r",
    "fortran": "wirth",
    "pascal": "wirth",
    "vue": "sfc",
    "svelte": "sfc",
}


def _preamble_start(lines: list[tuple[int, str]], index: int, floor: int, language: str) -> int:
    """First line of the comments/decorators/attributes glued to the definition at ``index``."""
    hash_comments = language in _HASH_COMMENTS
    start = index
    while start - 1 >= floor and index - start < _MAX_PREAMBLE:
        line = lines[start - 1][1]
        stripped = line.lstrip()
        if not stripped:
            break
        if (
            line.startswith(("@", "#["))
            or stripped.startswith(_COMMENT_PREFIXES)
            or (hash_comments and stripped.startswith("#"))
        ):
            start -= 1
            continue
        break
    return start


def _line_sections(text: str, language: str) -> tuple[Section, ...]:
    lines = iter_lines(text)
    finder = _FINDERS[LANGUAGE_FAMILIES.get(language, "generic")]
    definitions: list[_Definition] = []
    for definition in finder(lines):
        # Clauses of one function (Erlang, Haskell signatures, overloads) make one section.
        if definitions and definitions[-1].title == definition.title:
            continue
        definitions.append(definition)
    starts: list[int] = []
    floor = 0
    for definition in definitions:
        start = _preamble_start(lines, definition.line, floor, language)
        if (
            definition.c_style
            and start == definition.line
            and start - 1 >= floor
            and _C_TYPE_LINE.fullmatch(lines[start - 1][1].rstrip())
        ):
            # GNU style puts the return type on its own line above the name.
            start -= 1
        starts.append(start)
        floor = definition.line + 1
    sections: list[Section] = []
    for number, definition in enumerate(definitions):
        begin = lines[starts[number]][0]
        end = lines[starts[number + 1]][0] if number + 1 < len(starts) else len(text)
        if end > begin:
            sections.append(Section(begin, end, definition.title))
    return tuple(sections)


_PYTHON_PREFIXES: dict[type[ast.stmt], str] = {
    ast.FunctionDef: "def",
    ast.AsyncFunctionDef: "async def",
    ast.ClassDef: "class",
}


def _python_sections(text: str) -> tuple[Section, ...] | None:
    """Sections from the syntax tree, or ``None`` when the file does not parse."""
    try:
        with warnings.catch_warnings():
            # Invalid escape sequences and the like are the file's problem, not ours.
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    starts = line_starts(text)
    lines = iter_lines(text)
    sections: list[Section] = []
    floor = 0
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        prefix = _PYTHON_PREFIXES[type(node)]
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - 1
        last = (node.end_lineno or node.lineno) - 1
        if not 0 <= first <= last < len(lines):
            # Line numbering disagrees with ours (exotic line breaks): trust the regex instead.
            return None
        first = _preamble_start(lines, first, floor, "python")
        begin = starts[first]
        end = starts[last + 1] if last + 1 < len(starts) else len(text)
        if end > begin:
            sections.append(Section(begin, end, f"{prefix} {node.name}"))
        floor = last + 1
    return tuple(sections)


def find_sections(text: str, language: str) -> tuple[Section, ...]:
    """Sections at the top-level definitions of ``text`` written in ``language``."""
    if language == "python":
        sections = _python_sections(text)
        if sections is not None:
            return sections
    return _line_sections(text, language)


class CodeExtractor:
    """Source code in one language; every language shares ``kind == "code"``."""

    kind: str = "code"

    def __init__(self, language: str) -> None:
        self.language = language

    def __repr__(self) -> str:
        return f"CodeExtractor({self.language!r})"

    def extract(self, path: Path) -> Document:
        text, verbatim = read_text(path)
        return Document(
            text=text,
            kind=self.kind,
            verbatim=verbatim,
            title=path.name,
            sections=find_sections(text, self.language),
        )
