"""The few lines of a hit worth showing: the window with the most query terms."""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class Snippet:
    first_line: int  # line number of lines[0] in the source (1-based)
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def query_terms(query: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(query) if len(w) > 1}


def best_window(text: str, first_line: int, query: str, size: int = 3) -> Snippet:
    """The ``size`` consecutive non-blank-led lines that mention the most query terms."""
    lines = text.splitlines()
    if not lines:
        return Snippet(first_line, ())
    terms = query_terms(query)
    scores = [len(terms & {w.lower() for w in _WORD.findall(line)}) for line in lines]
    best_start, best_score = 0, -1
    for start in range(len(lines)):
        if not lines[start].strip():
            continue
        score = sum(scores[start : start + size])
        if score > best_score:
            best_start, best_score = start, score
    window = lines[best_start : best_start + size]
    while window and not window[-1].strip():
        window.pop()
    return Snippet(first_line + best_start, tuple(line.rstrip() for line in window))


def with_context(text: str, first_line: int, snippet: Snippet, context: int) -> Snippet:
    """Widen a snippet by ``context`` lines each side, within the chunk's text."""
    if context <= 0:
        return snippet
    lines = text.splitlines()
    start = max(0, snippet.first_line - first_line - context)
    stop = min(len(lines), snippet.first_line - first_line + len(snippet.lines) + context)
    return Snippet(first_line + start, tuple(line.rstrip() for line in lines[start:stop]))
