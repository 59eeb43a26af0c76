"""Checking that a :class:`Document` keeps the promises its docstring makes."""

from __future__ import annotations

from sleuth.extractors.base import Document


def document_problems(document: Document, raw: bytes | None = None) -> list[str]:
    """Broken invariants, in words; empty when the document is well formed.

    Sections must be ordered, non-overlapping, non-empty and within the text, and a
    verbatim document's text must be encodable as UTF-8 and, when the file's bytes are
    given as ``raw``, encode to exactly those bytes.
    """
    problems: list[str] = []
    length = len(document.text)
    previous_end = 0
    for index, section in enumerate(document.sections):
        if not 0 <= section.start < section.end <= length:
            problems.append(f"section {index} [{section.start}, {section.end}) outside text")
        if section.start < previous_end:
            problems.append(f"section {index} starts before section {index - 1} ends")
        if section.page is not None and section.page < 1:
            problems.append(f"section {index} has page {section.page}")
        previous_end = max(previous_end, section.end)
    if document.verbatim:
        try:
            encoded = document.text.encode("utf-8")
        except UnicodeEncodeError:
            problems.append("verbatim text is not valid UTF-8")
        else:
            if raw is not None and encoded != raw:
                problems.append("verbatim text differs from the file's bytes")
    return problems
