"""Chunking properties: chunks cover the text, offsets round-trip, token caps hold."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

from fakes import FakeEmbedder
from hypothesis import given, settings
from hypothesis import strategies as st

from sleuth.extractors.base import Document, Section
from sleuth.extractors.registry import extract
from sleuth.indexer.chunking import Chunk, Chunker
from sleuth.indexer.embedder import LlamaEmbedder

FAKE = FakeEmbedder(max_tokens=64)

line = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=120
)
texts = st.lists(line, max_size=40).map("\n".join)


def _check(doc: Document, chunks: list[Chunk], chunker: Chunker) -> None:
    raw = doc.text.encode("utf-8")
    covered = [False] * len(raw)
    for chunk in chunks:
        # Offsets round-trip to the exact source text.
        assert raw[chunk.start : chunk.end].decode("utf-8") == chunk.text
        for i in range(chunk.start, chunk.end):
            covered[i] = True
        # The token cap holds for what the model will actually see.
        assert len(chunker._tokenize(chunk.embed_text)) <= chunker.max_tokens
        assert chunk.text.strip()
        first_line = doc.text.encode()[: chunk.start].count(b"\n") + 1
        assert chunk.line_start == first_line
        assert chunk.line_end == first_line + chunk.text.count("\n")
    # Every non-blank character is in some chunk.
    pos = 0
    for ch in doc.text:
        assert covered[pos] or ch.isspace(), f"{ch!r} at byte {pos} is in no chunk"
        pos += len(ch.encode("utf-8"))


@settings(max_examples=150, deadline=None)
@given(texts)
def test_plain_text_properties(text: str) -> None:
    chunker = Chunker(FAKE.tokenize, max_tokens=64, overlap=8)
    doc = Document(text=text, kind="text", verbatim=True)
    _check(doc, chunker.split(doc, label="file.txt"), chunker)


@settings(max_examples=100, deadline=None)
@given(texts, st.lists(st.integers(min_value=0, max_value=4000), max_size=6))
def test_sections_are_never_cut_through(text: str, cuts: list[int]) -> None:
    """A chunk lies inside one section, or holds whole sections (small neighbours joined)."""
    points = sorted({min(c, len(text)) for c in cuts} | {0, len(text)})
    sections = tuple(Section(a, b, title=f"part {i}") for i, (a, b) in enumerate(pairwise(points)))
    doc = Document(text=text, kind="md", verbatim=True, sections=sections)
    chunker = Chunker(FAKE.tokenize, max_tokens=64, overlap=8)
    chunks = chunker.split(doc)
    _check(doc, chunks, chunker)

    def extent(s: Section) -> tuple[int, int]:
        """Byte range of the section's text without its edge whitespace."""
        body = text[s.start : s.end]
        lead = len(body) - len(body.lstrip())
        core = body.strip()
        start = len(text[: s.start + lead].encode())
        return start, start + len(core.encode())

    for chunk in chunks:
        touched = [e for s in sections if (e := extent(s))[0] < e[1]]
        touched = [(a, b) for a, b in touched if a < chunk.end and chunk.start < b]
        if len(touched) > 1:
            assert all(chunk.start <= a and b <= chunk.end for a, b in touched), chunk
            assert chunk.context == ""  # "part 0" and "part 1" share no title


def test_small_neighbours_are_joined_under_their_shared_heading() -> None:
    chunker = Chunker(FAKE.tokenize, max_tokens=64)
    text = "Intro line.\nSetup: run make.\nUse: run sleuth.\n" + "word " * 80 + "\nTail.\n"
    cuts = [0, 12, 29, 46, 46 + 400, len(text)]
    titles = ["Guide", "Guide > Setup", "Guide > Use", "Guide > Reference", "Guide > Tail"]
    sections = tuple(
        Section(a, b, title=t) for (a, b), t in zip(pairwise(cuts), titles, strict=True)
    )
    doc = Document(text=text, kind="md", verbatim=True, sections=sections)
    chunks = chunker.split(doc)
    assert chunks[0].text == "Intro line.\nSetup: run make.\nUse: run sleuth."
    assert chunks[0].context == "Guide"
    # A section too long for one chunk is split on its own; nothing joins a piece of it.
    assert len(chunks) > 3
    assert all(c.context == "Guide > Reference" for c in chunks[1:-1])
    assert (chunks[-1].text, chunks[-1].context) == ("Tail.", "Guide > Tail")


def test_pages_are_never_joined() -> None:
    chunker = Chunker(FAKE.tokenize, max_tokens=64)
    text = "one\ntwo\n"
    sections = (Section(0, 4, "page 1", page=1), Section(4, 8, "page 2", page=2))
    chunks = chunker.split(Document(text=text, kind="pdf", verbatim=False, sections=sections))
    assert [(c.text, c.page) for c in chunks] == [("one", 1), ("two", 2)]


def test_huge_single_word_and_long_lines_are_split() -> None:
    chunker = Chunker(FAKE.tokenize, max_tokens=32, overlap=4)
    text = "x" * 5000 + "\n" + " ".join(["word"] * 500) + "\n"
    doc = Document(text=text, kind="text", verbatim=True)
    chunks = chunker.split(doc)
    _check(doc, chunks, chunker)
    assert len(chunks) > 10


def test_consecutive_chunks_overlap_by_whole_lines() -> None:
    chunker = Chunker(FAKE.tokenize, max_tokens=40, overlap=10)
    text = "".join(f"line {i} has four words\n" for i in range(60))
    chunks = chunker.split(Document(text=text, kind="text", verbatim=True))
    assert len(chunks) > 3
    for a, b in pairwise(chunks):
        assert b.start < a.end  # shared lines
        assert b.start > a.start  # but always progress


def test_real_tokenizer_caps_real_files(real_embedder: LlamaEmbedder) -> None:
    chunker = Chunker(real_embedder.tokenize, real_embedder.max_tokens, overlap=32)
    root = Path(__file__).resolve().parent.parent
    for path in [*sorted((root / "examples").rglob("*.*")), root / "indexer" / "chunking.py"]:
        doc = extract(path)
        chunks = chunker.split(doc, label=path.name)
        assert chunks
        for chunk in chunks:
            assert len(real_embedder.tokenize(chunk.embed_text)) <= real_embedder.max_tokens
            assert doc.text.encode()[chunk.start : chunk.end].decode() == chunk.text


def test_pdf_chunks_know_their_page(real_embedder: LlamaEmbedder) -> None:
    root = Path(__file__).resolve().parent.parent
    doc = extract(root / "examples" / "docs" / "travel-policy.pdf")
    chunks = Chunker(real_embedder.tokenize).split(doc)
    assert {c.page for c in chunks} == {1, 2}
    assert any("150 euros" in c.text and c.page == 2 for c in chunks)
