"""PDF extraction, on PDFs written by tests/pdfgen.py."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from pdfgen import make_pdf

from sleuth.extractors import pdfium
from sleuth.extractors.base import ExtractionError
from sleuth.extractors.pdf import PAGE_SEPARATOR, PdfExtractor
from sleuth.extractors.registry import extract
from sleuth.extractors.validate import document_problems


def write(tmp_path: Path, data: bytes, name: str = "doc.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def page_texts(path: Path) -> list[str]:
    document = extract(path)
    return [document.text[s.start : s.end] for s in document.sections]


def test_two_pages_give_two_sections(tmp_path: Path) -> None:
    path = write(tmp_path, make_pdf(["Hello first page\nsecond line", "Goodbye (page) two"]))
    document = PdfExtractor().extract(path)
    assert document.kind == "pdf"
    assert not document.verbatim
    assert [(s.page, s.title) for s in document.sections] == [(1, "page 1"), (2, "page 2")]
    assert page_texts(path) == ["Hello first page\nsecond line", "Goodbye (page) two"]
    assert document.text == "Hello first page\nsecond line" + PAGE_SEPARATOR + "Goodbye (page) two"
    assert document_problems(document) == []


def test_dot_leaders_become_one_ellipsis_and_code_dots_stay(tmp_path: Path) -> None:
    toc = "1.1 Legalese . . . . . . . . . . . . 1\nIndex.............. 27\nf <- function(x, ...) x"
    assert page_texts(write(tmp_path, make_pdf([toc]))) == [
        "1.1 Legalese \u2026 1\nIndex \u2026 27\nf <- function(x, ...) x"
    ]


def test_title_comes_from_metadata(tmp_path: Path) -> None:
    path = write(tmp_path, make_pdf(["body"], title="Résumé  of\nthings"))
    assert extract(path).title == "Résumé of things"
    assert extract(write(tmp_path, make_pdf(["body"]), "untitled.pdf")).title == ""


def test_non_ascii_text(tmp_path: Path) -> None:
    assert page_texts(write(tmp_path, make_pdf(["Café — 20 €"]))) == ["Café — 20 €"]


def test_pages_without_text_are_skipped_but_numbers_kept(tmp_path: Path) -> None:
    document = extract(write(tmp_path, make_pdf(["one", "", "three"])))
    assert [s.page for s in document.sections] == [1, 3]
    assert document.text == "one" + PAGE_SEPARATOR + "three"


def test_pdf_without_text(tmp_path: Path) -> None:
    with pytest.raises(ExtractionError, match=r"no text in PDF \(scanned\?\)"):
        extract(write(tmp_path, make_pdf(["", ""])))


def test_encrypted_pdf(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(["secret text"]))))
    writer.encrypt("pw")
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(ExtractionError, match="encrypted"):
        extract(write(tmp_path, buffer.getvalue()))


def test_pdf_with_only_an_owner_password_opens(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf(["open text"]))))
    writer.encrypt(user_password="", owner_password="owner")
    buffer = io.BytesIO()
    writer.write(buffer)
    assert page_texts(write(tmp_path, buffer.getvalue())) == ["open text"]


@pytest.mark.parametrize(
    "data", [b"", b"not a pdf at all", b"%PDF-1.4\n", b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog"]
)
def test_garbage_is_unreadable(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(ExtractionError, match=r"unreadable PDF|no text"):
        extract(write(tmp_path, data))


@pytest.mark.parametrize("fraction", [0.25, 0.5, 0.75, 0.9, 0.99])
def test_truncated_pdf_does_not_crash(tmp_path: Path, fraction: float) -> None:
    data = make_pdf(["first page text", "second page text"], title="t")
    path = write(tmp_path, data[: int(len(data) * fraction)])
    try:
        document = extract(path)
    except ExtractionError:
        return
    assert document_problems(document) == []


def test_pdfgen_output_is_accepted_by_a_strict_reader() -> None:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(make_pdf(["a", "b\\c"], title="T")), strict=True)
    assert [page.extract_text() for page in reader.pages] == ["a", "b\\c"]
    assert reader.metadata is not None and reader.metadata.title == "T"


def test_pdfgen_needs_a_page() -> None:
    with pytest.raises(ValueError):
        make_pdf([])


# -- the PDFium engine and its child process ------------------------------------------------


def test_pdfium_reads_first_and_pypdf_agrees_on_simple_text(tmp_path: Path) -> None:
    path = tmp_path / "two.pdf"
    path.write_bytes(make_pdf(["First page words", "Second page words"], title="Two"))
    found = pdfium.extract_pages(path)
    assert found is not None
    assert [p.strip() for p in found.pages] == ["First page words", "Second page words"]
    doc = PdfExtractor().extract(path)
    assert doc.text == PdfExtractor().extract_pypdf(path.read_bytes()).text
    assert doc.title == "Two"
    assert [s.page for s in doc.sections] == [1, 2]


def test_pdfium_hyphen_marks_and_line_breaks_are_normalized() -> None:
    assert pdfium.page_text("docu\x02mentation\r\nnext\rline\x01") == "documentation\nnext\nline "


@pytest.mark.parametrize(
    ("worker", "why"),
    [
        ("import ctypes; ctypes.string_at(0)", "died"),  # a real segfault in native code
        ("import sys; sys.stdin.readline(); sys.stdout.write('{not json\\n')", "garbage"),
        ("import time; time.sleep(30)", "hung"),
    ],
)
def test_a_crashing_or_hanging_engine_falls_back_to_pypdf(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, worker: str, why: str
) -> None:
    path = tmp_path / "one.pdf"
    path.write_bytes(make_pdf(["Still readable by pypdf"]))
    pdfium.stop()
    pdfium.take_crashes()
    monkeypatch.setattr(pdfium, "WORKER", (sys.executable, "-c", worker))
    monkeypatch.setattr(pdfium, "TIMEOUT", 1.0)
    try:
        assert PdfExtractor().extract(path).text == "Still readable by pypdf"
        (crash,) = pdfium.take_crashes()
        assert crash.startswith(f"{path} (") and why in crash
        assert PdfExtractor().extract(path).text == "Still readable by pypdf"  # and again
        assert len(pdfium.take_crashes()) == 1
    finally:
        pdfium.stop()
    monkeypatch.undo()
    assert pdfium.extract_pages(path) is not None  # a fresh, real child starts again
    assert pdfium.take_crashes() == []


def test_debian_faq_page_text_has_spaces_between_words() -> None:
    faq = Path("/usr/share/doc/debian/FAQ/debian-faq.en.pdf.gz")
    if not faq.exists():
        pytest.skip("apt-get install debian-faq")
    import gzip
    import re
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "debian-faq.pdf"
        path.write_bytes(gzip.decompress(faq.read_bytes()))
        text = PdfExtractor().extract(path).text
    words = re.findall(r"[A-Za-z]+", text)
    glued = [w for w in words if len(w) > 25]
    assert len(words) > 20000
    assert len(glued) < 0.001 * len(words), glued[:10]
    assert "It will display the name" in " ".join(text.split())
