"""Derived text (PDF, DOCX, HTML, notebooks, e-mail) is stored at index time and read back at
query time without extracting: real files, the real model, every extractor made to raise."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import zlib
from pathlib import Path

import pytest
from clirun import sleuth
from fakes import FakeEmbedder
from hypothesis import given, settings
from hypothesis import strategies as st
from pdfgen import make_pdf
from test_extractors_formats import make_docx, paragraph

from sleuth.extractors.docx import DocxExtractor
from sleuth.extractors.eml import EmailExtractor
from sleuth.extractors.html import HtmlExtractor
from sleuth.extractors.ipynb import NotebookExtractor
from sleuth.extractors.pdf import PdfExtractor
from sleuth.indexer.compact import compact_lexical
from sleuth.indexer.pipeline import run_index
from sleuth.indexer.source import read_texts
from sleuth.store.catalog import CATALOG_FILE
from sleuth.store.index import Index
from sleuth.store.paths import resolve_index
from sleuth.store.texts import SCHEMA as TEXTS_SCHEMA
from sleuth.store.texts import TextReader, put_text, read_all

FIXTURES = Path(__file__).parent / "fixtures" / "extractors"
DERIVED = (PdfExtractor, DocxExtractor, HtmlExtractor, NotebookExtractor, EmailExtractor)

PDF_PAGES = [
    "Floating point numbers\nA test of equality between two decimal results can return FALSE\n"
    "because binary fractions cannot represent most decimal fractions exactly.",
    "Compare them with all.equal, which allows a small tolerance,\ninstead of the == operator.",
]


def _corpus(root: Path) -> Path:
    root.mkdir()
    (root / "floats.pdf").write_bytes(make_pdf(PDF_PAGES, title="R FAQ excerpt"))
    make_docx(
        root / "harvest.docx",
        paragraph("Harvest planning", "Heading1")
        + paragraph("Pick the pumpkins once the stems turn woody and the rind resists a nail."),
    )
    for name in ("page.html", "notebook.ipynb", "message.eml"):
        (root / name).write_bytes((FIXTURES / name).read_bytes())
    (root / "plain.md").write_text("# Plain\n\nVerbatim files are read back from disk.\n")
    return root


def _no_extraction(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: object, path: Path) -> None:
        raise AssertionError(f"extracted {path} at query time")

    for cls in DERIVED:
        monkeypatch.setattr(cls, "extract", refuse)


def _stored_rows() -> int:
    db = sqlite3.connect(resolve_index(None).directory / CATALOG_FILE)
    try:
        return int(db.execute("SELECT count(*) FROM texts").fetchone()[0])
    finally:
        db.close()


@pytest.mark.model
def test_query_reads_stored_text_with_every_extractor_raising(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _corpus(tmp_path / "docs")
    indexed = sleuth("index", str(root), "--json")
    assert indexed.code == 0, indexed.err
    assert json.loads(indexed.out)["files_indexed"] == 6
    _no_extraction(monkeypatch)
    before = set(sys.modules)

    result = sleuth("search", "why is a test of equality between decimals FALSE", "--json")
    assert result.code == 0, result.err
    hits = result.json_lines()
    assert hits[0]["path"] == str(root / "floats.pdf")
    assert hits[0]["page"] == 1
    assert "equality between two decimal results" in hits[0]["snippet"]
    assert "changed since indexing" not in result.err

    # Every derived format answers from the store, in each mode.
    for query, name in [
        ("when to pick pumpkins", "harvest.docx"),
        ("all.equal tolerance", "floats.pdf"),
    ]:
        for mode in ("semantic", "lexical", "hybrid"):
            # The store, not relevance, is on trial here: no floor.
            found = sleuth("search", query, "--mode", mode, "--json", "-k", "3", "--min-score", "0")
            assert found.code == 0, (mode, found.err)
            assert str(root / name) in {h["path"] for h in found.json_lines()}, (mode, query)
    lexical = sleuth("search", "pumpkins", "--mode", "lexical", "--json")
    assert "Pick the pumpkins once the stems" in lexical.json_lines()[0]["snippet"]
    # sleuth similar on an indexed, unchanged PDF reads its stored text, and so do its hits.
    similar = sleuth("similar", str(root / "floats.pdf"), "--json", "--include-self", "-k", "2")
    assert similar.code == 0, similar.err
    assert similar.json_lines()[0]["path"] == str(root / "floats.pdf")
    # No extractor module was even imported by the query path.
    assert not {m for m in set(sys.modules) - before if m.startswith(("pypdf", "sleuth.extr"))}


@pytest.mark.model
def test_a_changed_pdf_is_never_quoted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _corpus(tmp_path / "docs")
    assert sleuth("index", str(root)).code == 0
    # Its own MonkeyPatch: undoing the test's would also undo the fixture's SLEUTH_HOME.
    refusing = pytest.MonkeyPatch()
    _no_extraction(refusing)
    pdf = root / "floats.pdf"
    pdf.write_bytes(make_pdf(["This file now talks about gardening and nothing else."]))
    result = sleuth("search", "test of equality between two decimal results", "--json")
    assert str(pdf) not in {h["path"] for h in result.json_lines()}
    assert "changed since indexing" in result.err
    # Same bytes, new mtime: still not quoted until the next index run confirms the hash.
    os.utime(root / "harvest.docx", ns=(1, 1))
    result = sleuth("search", "pumpkins", "--mode", "lexical", "--json")
    assert result.code == 1
    refusing.undo()
    assert sleuth("index", str(root)).code == 0
    assert sleuth("search", "pumpkins", "--mode", "lexical", "--json").code == 0


def test_stored_text_follows_remove_replace_and_move(tmp_path: Path) -> None:
    root = _corpus(tmp_path / "docs")
    directory = resolve_index(None).directory
    run_index(directory, [root], FakeEmbedder())
    five = _stored_rows()
    assert five >= 5  # one block or more for each derived file; none for plain.md
    # Move: the file keeps its row id, so its text moves with it.
    (root / "floats.pdf").rename(root / "moved.pdf")
    run_index(directory, [root], FakeEmbedder())
    assert _stored_rows() == five
    # Replace: the new text, not the old one, is what the chunks point into.
    make_docx(root / "harvest.docx", paragraph("Squash keeps for months in a cool cellar."))
    run_index(directory, [root], FakeEmbedder())
    with Index.open(directory) as index, index.snapshot():
        chunks = [c for c in index.catalog.iter_chunks() if c.file.path.endswith("harvest.docx")]
        texts = read_texts(index.catalog, chunks)
    assert [t.text for t in texts.values()] == ["Squash keeps for months in a cool cellar."]
    # Remove: its blocks go too.
    for name in ("moved.pdf", "harvest.docx", "page.html", "notebook.ipynb", "message.eml"):
        (root / name).unlink()
    run_index(directory, [root], FakeEmbedder())
    assert _stored_rows() == 0


def test_compaction_and_status_use_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _corpus(tmp_path / "docs")
    directory = resolve_index(None).directory
    run_index(directory, [root], FakeEmbedder())
    _no_extraction(monkeypatch)
    with Index.open(directory, readonly=False) as index:
        assert compact_lexical(index) == 0
    assert sleuth("search", "pumpkins", "--mode", "lexical", "--json").code == 0
    status = sleuth("status", "--json")
    foot = json.loads(status.out)["footprint"]
    assert foot["text"] > 0
    assert foot["total"] == sum(v for k, v in foot.items() if k != "total")
    human = sleuth("status")
    assert ", text " in human.out
    assert sleuth("status", "--check").code == 0
    db = sqlite3.connect(directory / CATALOG_FILE)
    with db:
        db.execute("DELETE FROM texts WHERE id = (SELECT min(id) FROM texts)")
        db.execute("INSERT INTO texts(id, data) VALUES(?, x'01')", (999 << 20,))
    db.close()
    broken = sleuth("status", "--check")
    assert broken.code == 2
    assert "inconsistent index: 1 derived files have no stored text" in broken.err
    assert "inconsistent index: stored text of 1 files that are not indexed" in broken.err


def test_an_index_from_schema_4_asks_for_a_rebuild(tmp_path: Path) -> None:
    root = _corpus(tmp_path / "docs")
    directory = resolve_index(None).directory
    run_index(directory, [root], FakeEmbedder())
    db = sqlite3.connect(directory / CATALOG_FILE)
    db.execute("PRAGMA user_version=4")
    db.close()
    for args in (("search", "pumpkins"), ("status",), ("index", str(root))):
        result = sleuth(*args)
        assert result.code == 2
        assert result.err.splitlines() == [
            "sleuth: error: catalog schema 4 is from an older sleuth; delete the index and rebuild"
        ], args


def _texts_db(block: int) -> sqlite3.Connection:
    """A catalog's meta and texts tables, blocks cut at ``block`` bytes (small: many blocks)."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.executescript(TEXTS_SCHEMA)
    db.execute("UPDATE meta SET value=? WHERE key='text_block_bytes'", (str(block),))
    return db


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(min_size=0, max_size=2500),
    block=st.integers(16, 1200),
    cuts=st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), max_size=8),
)
def test_any_byte_range_reads_back_exactly(
    text: str, block: int, cuts: list[tuple[float, float]]
) -> None:
    data = text.encode("utf-8")
    db = _texts_db(block)
    put_text(db, 7, text)
    put_text(db, 8, "another file's text sits next to it")
    ranges = [tuple(sorted((int(a * len(data)), int(b * len(data))))) for a, b in cuts]
    ranges.append((0, len(data)))
    got = TextReader(db).read(7, ranges)  # type: ignore[arg-type]
    assert got == [data[a:b] for a, b in ranges]
    assert TextReader(db).read(9, [(0, 1)]) == [None]


def test_a_new_catalog_cuts_64k_blocks_and_an_old_one_keeps_its_zlib_32k_blocks() -> None:
    text = "".join(f"line {n}: the quick brown fox jumps over the lazy dog\n" for n in range(3000))
    data = text.encode()
    db = _texts_db(65536)
    put_text(db, 1, text)
    assert db.execute("SELECT count(*) FROM texts").fetchone()[0] == -(-len(data) // 65536)
    assert read_all(db, 1) == data

    # An index from before the meta key: zlib blocks of 32 KiB, still read, and new text goes
    # in at that size (as Brotli) so the offsets of both keep one rule.
    old = sqlite3.connect(":memory:")
    old.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    old.execute("CREATE TABLE texts (id INTEGER PRIMARY KEY, data BLOB NOT NULL)")
    old.executemany(
        "INSERT INTO texts(id, data) VALUES(?, ?)",
        (
            ((1 << 20) + n, b"\x01" + zlib.compress(data[start : start + 32768], 9))
            for n, start in enumerate(range(0, len(data), 32768))
        ),
    )
    put_text(old, 2, text)
    assert old.execute("SELECT count(*) FROM texts WHERE id >= 2 << 20").fetchone()[0] == (
        -(-len(data) // 32768)
    )
    cut = (40000, 70000)
    assert TextReader(old).read(1, [cut]) == [data[cut[0] : cut[1]]]
    assert TextReader(old).read(2, [cut]) == [data[cut[0] : cut[1]]]


def test_a_corrupt_block_is_a_database_error_not_a_crash() -> None:
    db = _texts_db(1000)
    put_text(db, 3, "some text " * 300)
    db.execute("UPDATE texts SET data = x'02deadbeef' WHERE id = (3 << 20) + 1")
    with pytest.raises(sqlite3.DatabaseError, match="corrupt"):
        TextReader(db).read(3, [(1500, 1600)])


def test_a_pdf_chunks_page_context_costs_no_bytes_and_reads_back(tmp_path: Path) -> None:
    root = _corpus(tmp_path / "docs")
    directory = tmp_path / "index"
    run_index(directory, [root], FakeEmbedder())
    pdf = str(root / "floats.pdf")
    with Index.open(directory) as index:
        chunks = [c for c in index.catalog.iter_chunks() if c.file.path == pdf]
        reusable = index.catalog.codes_of_file(pdf)
    assert [(c.chunk.page, c.chunk.context) for c in chunks] == [(1, "page 1"), (2, "page 2")]
    assert {ctx for _hash, ctx in reusable} == {"page 1", "page 2"}
    db = sqlite3.connect(directory / CATALOG_FILE)
    try:
        stored = {r[0] for r in db.execute("SELECT context FROM chunks WHERE page IS NOT NULL")}
        headed = db.execute("SELECT count(*) FROM chunks WHERE context != ''").fetchone()[0]
    finally:
        db.close()
    assert stored == {""}
    assert headed > 0  # other formats keep their headings and cell names
