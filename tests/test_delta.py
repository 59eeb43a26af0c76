"""Delta indexing: after an edit only the chunks whose text changed are embedded again."""

from __future__ import annotations

from pathlib import Path

from clirun import sleuth
from fakes import FakeEmbedder

from sleuth.indexer.chunking import SMALL_SECTION
from sleuth.indexer.pipeline import run_index
from sleuth.store.index import Index, check_consistency


def _notes(path: Path, changed: int | None = None) -> None:
    sections = []
    # Sections over SMALL_SECTION tokens, so each is a chunk of its own (none is joined).
    filler = " ".join(f"word{k}" for k in range(SMALL_SECTION))
    for i in range(12):
        body = f"Section {i} explains topic{i} in a few plain words. {filler}"
        if i == changed:
            body = f"Section {i} was rewritten to cover something new: zebra{i}. {filler}"
        sections.append(f"## Part {i}\n\n{body}\n")
    path.write_text("# Notes\n\n" + "\n".join(sections))


def test_only_changed_chunks_are_embedded(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    _notes(docs / "notes.md")
    directory = tmp_path / "index"
    first = FakeEmbedder()
    summary = run_index(directory, [docs], first)
    total = summary.chunks_added
    assert total >= 12 and summary.chunks_reused == 0

    _notes(docs / "notes.md", changed=5)
    again = FakeEmbedder()
    summary = run_index(directory, [docs], again)
    assert summary.files_indexed == 1
    assert summary.chunks_added == total
    assert again.embedded == 1  # only the rewritten section
    assert summary.chunks_reused == total - 1

    with Index.open(directory) as index:
        assert check_consistency(index) == []
        hits = index.catalog.lexical_search(["zebra5"], 5)
        assert len(hits) == 1


def test_delta_with_the_real_model(sample: Path) -> None:
    target = sample / "notes" / "account-recovery.md"
    assert sleuth("index", str(sample), "--quiet").code == 0
    target.write_text(target.read_text().replace("fifteen minutes", "thirty minutes"))
    result = sleuth("index", str(sample), "--json")
    summary = result.json_lines()[0]
    assert summary["files_indexed"] == 1
    assert summary["chunks_reused"] == summary["chunks_added"] - 1
    hits = sleuth("search", "how long is an account locked", "--json", "-k", "1").json_lines()
    assert "thirty minutes" in str(hits[0]["snippet"])
    assert sleuth("status", "--check").code == 0
