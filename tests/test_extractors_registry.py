"""Registry: suffix and name lookup, sniffing, kinds, and the extract() entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sleuth.extractors import registry
from sleuth.extractors.base import Document, ExtractionError
from sleuth.extractors.code import CodeExtractor
from sleuth.extractors.validate import document_problems

FIXTURES = Path(__file__).parent / "fixtures" / "extractors"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("notes.txt", "text"),
        ("server.log", "text"),
        ("table.csv", "text"),
        ("README.md", "md"),
        ("page.mdx", "md"),
        ("index.rst", "rst"),
        ("tool.py", "code"),
        ("types.pyi", "code"),
        ("app.tsx", "code"),
        ("main.go", "code"),
        ("lib.rs", "code"),
        ("config.yaml", "code"),
        ("paper.pdf", "pdf"),
        ("page.htm", "html"),
        ("report.docx", "docx"),
        ("analysis.ipynb", "ipynb"),
        ("mail.eml", "eml"),
    ],
)
def test_suffix_lookup(name: str, kind: str) -> None:
    assert registry.kind_for_path(Path("some/dir") / name) == kind


@pytest.mark.parametrize("name", ["REPORT.PDF", "Notes.Md", "Main.GO", "X.IPYNB"])
def test_suffix_lookup_ignores_case(name: str) -> None:
    extractor = registry.extractor_for(Path(name), head=b"")
    assert extractor is registry.BY_SUFFIX[Path(name).suffix.lower()]


@pytest.mark.parametrize(
    ("name", "language"),
    [
        ("Makefile", "make"),
        ("makefile", "make"),
        ("GNUmakefile", "make"),
        ("Makefile.am", "make"),
        ("Dockerfile", "dockerfile"),
        ("Dockerfile.dev", "dockerfile"),
        ("CMakeLists.txt", "cmake"),
        ("Gemfile", "ruby"),
    ],
)
def test_exact_names_are_code(name: str, language: str) -> None:
    extractor = registry.extractor_for(Path(name), head=b"\x00binary head is not consulted")
    assert isinstance(extractor, CodeExtractor)
    assert extractor.language == language


@pytest.mark.parametrize("name", ["README", "LICENSE", "Copying", "CHANGELOG"])
def test_exact_names_are_text(name: str) -> None:
    assert registry.extractor_for(Path(name), head=b"") is registry.TEXT


def test_sniffs_text_with_unknown_suffix() -> None:
    path = FIXTURES / "notes.unknownext"
    assert registry.kind_for_path(path) is None
    assert registry.extractor_for(path) is registry.TEXT
    document = registry.extract(path)
    assert document.kind == "text"
    assert document.text.startswith("plain text without a known suffix")


def test_sniffing_refuses_binary(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    assert registry.extractor_for(path) is None
    with pytest.raises(ExtractionError, match="unsupported"):
        registry.extract(path)


def test_sniffing_uses_the_given_head_without_reading(tmp_path: Path) -> None:
    missing = tmp_path / "does-not-exist.weird"
    assert registry.extractor_for(missing, head=b"hello\nworld\n") is registry.TEXT
    assert registry.extractor_for(missing, head=b"\x00\x01\x02") is None
    assert registry.extractor_for(missing) is None


def test_sniffing_accepts_utf16_with_bom_and_rejects_control_soup(tmp_path: Path) -> None:
    assert registry.extractor_for(tmp_path / "x.dat", head="héllo".encode("utf-16")) is not None
    assert registry.extractor_for(tmp_path / "x.dat", head=bytes(range(1, 32)) * 10) is None


def test_code_suffix_count_and_shape() -> None:
    assert len(registry.CODE_SUFFIXES) >= 30
    for suffix in registry.BY_SUFFIX:
        assert suffix.startswith(".")
        assert suffix == suffix.lower()
    for name in registry.BY_NAME:
        assert name == name.lower()


def test_kind_for_suffix() -> None:
    assert registry.kind_for_suffix(".PY") == "code"
    assert registry.kind_for_suffix("md") == "md"
    assert registry.kind_for_suffix(".nope") is None
    assert registry.kind_for_suffix("") is None


def test_kinds() -> None:
    expected = {"text", "md", "rst", "code", "pdf", "html", "docx", "ipynb", "eml"}
    assert expected == registry.KINDS
    for kind in registry.KINDS:
        assert registry.suffixes_for_kind(kind), kind
    assert ".md" in registry.suffixes_for_kind("md")
    assert registry.suffixes_for_kind("nope") == frozenset()


def test_extract_missing_file_is_an_extraction_error(tmp_path: Path) -> None:
    with pytest.raises(ExtractionError, match="cannot read"):
        registry.extract(tmp_path / "gone.txt")


def test_extract_directory_is_an_extraction_error(tmp_path: Path) -> None:
    directory = tmp_path / "folder.md"
    directory.mkdir()
    with pytest.raises(ExtractionError):
        registry.extract(directory)


def test_extract_rejects_documents_that_break_invariants(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sleuth.extractors.base import Section

    class Broken:
        kind = "text"

        def extract(self, path: Path) -> Document:
            return Document("abc", "text", sections=(Section(2, 9),))

    monkeypatch.setitem(registry._SUFFIXED, ".broken", Broken())
    path = tmp_path / "x.broken"
    path.write_text("abc")
    with pytest.raises(ExtractionError, match="internal extractor error"):
        registry.extract(path)


def test_every_fixture_extracts_to_a_well_formed_document() -> None:
    for path in sorted(FIXTURES.iterdir()):
        document = registry.extract(path)
        raw = path.read_bytes()
        assert document_problems(document, raw) == [], path.name
        assert document.kind in registry.KINDS
        for section in document.sections:
            assert section.title, (path.name, section)


def test_importing_the_registry_does_not_import_pypdf() -> None:
    code = "import sys, sleuth.extractors.registry; print('pypdf' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
