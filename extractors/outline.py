"""Turning a flat list of headings into sections titled by their heading path."""

from __future__ import annotations

from dataclasses import dataclass

from sleuth.extractors.base import Section

#: Joins the titles of nested headings: ``Install > Linux > Debian``.
PATH_SEPARATOR = " > "


@dataclass(frozen=True, slots=True)
class Heading:
    """A heading found at ``offset`` in the text; smaller ``level`` is more important."""

    offset: int
    level: int
    title: str


def sections_from_headings(headings: list[Heading], text_length: int) -> tuple[Section, ...]:
    """One section per heading, from the heading to the next heading (or the end of text).

    Text before the first heading belongs to no section. Headings must be sorted by offset;
    headings at the same offset as the next one would make empty sections and are dropped.
    """
    sections: list[Section] = []
    stack: list[Heading] = []
    for index, heading in enumerate(headings):
        while stack and stack[-1].level >= heading.level:
            stack.pop()
        stack.append(heading)
        end = headings[index + 1].offset if index + 1 < len(headings) else text_length
        if end <= heading.offset:
            continue
        title = PATH_SEPARATOR.join(h.title for h in stack if h.title)
        sections.append(Section(heading.offset, end, title))
    return tuple(sections)
