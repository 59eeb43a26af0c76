"""Documents → chunks that fit the model: structure first, then lines, then words.

A chunk never cuts through a section (a Markdown heading, a top-level definition, a PDF page),
so its heading path or definition name can travel with it as ``context``. Neighbouring
sections of which one is small (under ``SMALL_SECTION`` tokens: a one-line function, a heading
with a sentence) are joined while the whole run fits one chunk, on the same page; the joined
chunk's context is what their titles share (the parent heading). On corpus S that is 10% fewer
chunks, each carrying more than a stub. Within a section, whole lines are packed greedily up
to the token budget; a line too long on its own is split at whitespace, and a word too long on
its own at characters. Consecutive chunks of a section may share ``overlap`` tokens of whole
lines (0 by default: overlap cost 6% more chunks on corpus S and a second copy of its lines in
the lexical index).

Token counts are per line and summed: the model's tokenizer splits on whitespace first, so the
sum of a line's tokens equals the tokens of the joined text (the bound is re-checked anyway).
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sleuth.extractors.base import Document, Section
from sleuth.store.records import StoredChunk

Tokenize = Callable[[str], list[int]]
CONTEXT_CHARS = 160
OVERLAP_TOKENS = 0
SMALL_SECTION = 64
_TITLE_PARTS = " > "


@dataclass(frozen=True, slots=True)
class Chunk:
    """A span of a document's text with what the model should see alongside it."""

    start: int  # byte offsets into text.encode("utf-8")
    end: int
    line_start: int  # 1-based, inclusive
    line_end: int
    page: int | None
    context: str  # the section's heading path or definition name (stored)
    text: str
    tokens: int
    label: str = ""  # the file name: derived from the path, so not stored per chunk

    @property
    def embed_text(self) -> str:
        return embed_text(full_context(self.label, self.context), self.text)

    @property
    def text_hash(self) -> bytes:
        return text_hash(self.text)


def embed_text(context: str, text: str) -> str:
    return f"{context}\n{text}" if context else text


def chunk_input(chunk: StoredChunk, text: str) -> str:
    """The model's input for a stored chunk whose text was re-read: as at indexing time."""
    return embed_text(full_context(Path(chunk.file.path).name, chunk.chunk.context), text)


def full_context(label: str, context: str) -> str:
    """What the model sees above a chunk: the file's name, then the section's title."""
    return " > ".join(p for p in (label, context) if p)[:CONTEXT_CHARS]


def text_hash(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()


def _shared_title(a: str, b: str) -> str:
    """The heading path two sections share ("Guide > Setup", "Guide > Use" -> "Guide")."""
    shared: list[str] = []
    for x, y in zip(a.split(_TITLE_PARTS), b.split(_TITLE_PARTS), strict=False):
        if x != y:
            break
        shared.append(x)
    return _TITLE_PARTS.join(shared)


def _segments(doc: Document) -> Iterator[Section]:
    """The sections, plus the untitled gaps between them, so every character is covered."""
    pos = 0
    for section in doc.sections:
        if section.start > pos:
            yield Section(pos, section.start)
        yield section
        pos = max(pos, section.end)
    if pos < len(doc.text):
        yield Section(pos, len(doc.text))


class Chunker:
    def __init__(
        self, tokenize: Tokenize, max_tokens: int = 256, overlap: int = OVERLAP_TOKENS
    ) -> None:
        self._tokenize = tokenize
        self.max_tokens = max_tokens
        self.overlap = overlap
        self._specials = len(tokenize(""))

    def count(self, text: str) -> int:
        """Tokens of ``text`` without the special tokens the model adds around every input."""
        return len(self._tokenize(text)) - self._specials

    def split(self, doc: Document, label: str = "") -> list[Chunk]:
        """Chunks of ``doc``; ``label`` (e.g. a file name) prefixes every chunk's context."""
        text = doc.text
        # Byte offsets are computed once per line start, not per chunk.
        chunks: list[Chunk] = []
        locator = _Locator(text)
        for section in self._joined(doc, label):
            context = section.title[:CONTEXT_CHARS]
            shown = full_context(label, context)
            budget = self.max_tokens - self._specials - (self.count(shown + "\n") if shown else 0)
            budget = max(budget, 16)
            for start, end, tokens in self._pack(text, section.start, section.end, budget):
                # Edge whitespace adds nothing to an embedding and blurs the line range.
                while start < end and text[start].isspace():
                    start += 1
                while end > start and text[end - 1].isspace():
                    end -= 1
                if start == end:
                    continue
                piece = text[start:end]
                chunks.append(
                    Chunk(
                        start=locator.byte(start),
                        end=locator.byte(end),
                        line_start=locator.line(start),
                        line_end=locator.line(end - 1),
                        page=section.page,
                        context=context,
                        text=piece,
                        tokens=tokens + self._specials + (self.count(shown + "\n") if shown else 0),
                        label=label,
                    )
                )
        return chunks

    def _joined(self, doc: Document, label: str) -> Iterator[Section]:
        """The sections, with runs of small neighbours joined while the run fits one chunk."""
        run: Section | None = None
        run_small = False
        for section in _segments(doc):
            small = self._tokens_below(doc.text[section.start : section.end], SMALL_SECTION)
            if run is not None and (run_small or small) and run.page == section.page:
                title = _shared_title(run.title, section.title)
                joined = Section(run.start, section.end, title, section.page)
                if self._fits(doc.text[joined.start : joined.end], label, title):
                    run, run_small = joined, run_small and small
                    continue
            if run is not None:
                yield run
            run, run_small = section, small
        if run is not None:
            yield run

    def _tokens_below(self, text: str, limit: int) -> bool:
        # A token covers at least one character, so a short text needs no tokenizing.
        return len(text) < limit or self.count(text) < limit

    def _fits(self, text: str, label: str, title: str) -> bool:
        shown = full_context(label, title[:CONTEXT_CHARS])
        extra = self.count(shown + "\n") if shown else 0
        return self.count(text.strip()) + self._specials + extra <= self.max_tokens

    def _pack(self, text: str, start: int, end: int, budget: int) -> Iterator[tuple[int, int, int]]:
        """(start, end, tokens) spans of whole lines within [start, end), each ≤ budget tokens."""
        units = list(self._units(text, start, end, budget))
        i = 0
        while i < len(units):
            j, used = i, 0
            while j < len(units) and used + units[j][2] <= budget:
                used += units[j][2]
                j += 1
            if j == i:  # cannot happen: units are ≤ budget, but never loop forever
                j, used = i + 1, units[i][2]
            yield units[i][0], units[j - 1][1], used
            if j >= len(units):
                break
            # Step back over trailing lines worth ≤ overlap tokens, but always move forward.
            back, k = 0, j
            while k - 1 > i and back + units[k - 1][2] <= self.overlap:
                back += units[k - 1][2]
                k -= 1
            i = k

    def _units(
        self, text: str, start: int, end: int, budget: int
    ) -> Iterator[tuple[int, int, int]]:
        """Lines (with their newline); a line over budget is cut into word runs that fit."""
        pos = start
        while pos < end:
            nl = text.find("\n", pos, end)
            stop = end if nl < 0 else nl + 1
            tokens = self.count(text[pos:stop])
            if tokens <= budget:
                yield pos, stop, tokens
            else:
                yield from self._cut(text, pos, stop, budget)
            pos = stop

    def _cut(self, text: str, start: int, end: int, budget: int) -> Iterator[tuple[int, int, int]]:
        """Split an over-long line at whitespace (or anywhere, for one huge word)."""
        pos = start
        while pos < end:
            lo, hi = pos + 1, end
            # Binary search for the longest prefix that fits.
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if self.count(text[pos:mid]) <= budget:
                    lo = mid
                else:
                    hi = mid - 1
            stop = lo
            if stop < end:
                space = text.rfind(" ", pos + 1, stop)
                if space > pos:
                    stop = space + 1
            yield pos, stop, self.count(text[pos:stop])
            pos = stop


class _Locator:
    """Character offset → byte offset and 1-based line number, in O(log n) per lookup."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._ascii = text.isascii()
        # str.find steps from line to line in C; a per-character loop was 15% of the time
        # outside the model of indexing a large Markdown corpus.
        self._newlines = _newlines(text)
        # Byte offset of each line's first character, so a lookup encodes one line at most.
        self._line_bytes = [0]
        if not self._ascii:
            previous = 0
            for nl in self._newlines:
                self._line_bytes.append(
                    self._line_bytes[-1] + len(text[previous : nl + 1].encode())
                )
                previous = nl + 1

    def byte(self, offset: int) -> int:
        if self._ascii:
            return offset
        index = bisect_left(self._newlines, offset)
        line_start = self._newlines[index - 1] + 1 if index else 0
        return self._line_bytes[index] + len(self._text[line_start:offset].encode("utf-8"))

    def line(self, offset: int) -> int:
        return bisect_left(self._newlines, offset) + 1


def _newlines(text: str) -> list[int]:
    """Offsets of every ``\n`` in ``text``."""
    found: list[int] = []
    pos = text.find("\n")
    while pos >= 0:
        found.append(pos)
        pos = text.find("\n", pos + 1)
    return found
