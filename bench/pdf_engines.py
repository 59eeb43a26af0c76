"""Section ``pdf_engines`` (issue 10): which PDF text engine, by seconds per page and text quality.

On corpus PDF (7 R manuals + the Debian FAQ, see bench.derived_corpora), three strategies:

- ``pypdf``: pypdf alone (``page.extract_text()``), what sleuth did before;
- ``pypdf+detect``: pypdf, and for each page that looks glued (letters in "words" of more than
  20 letters are over 15% of the page's letters) PDFium for that page instead;
- ``pdfium``: PDFium first, pypdf only where PDFium fails: sleuth's choice, timed through
  sleuth's own child process (:mod:`sleuth.extractors.pdfium`, start-up included).

Per-page times come from in-process loops (pypdf, PDFium) so the detector's cost is the pypdf
time plus PDFium's time on the flagged pages. Quality proxies per strategy: the share of
alphabetic tokens longer than 25 letters (glued words), and the dictionary-word rate: the share
of tokens (2+ letters, lower-cased) found in a vocabulary built from other text on this machine
(every Python 3.11 doc source ``_sources/**/*.rst.txt`` plus the Debian FAQ's plain-text
edition ``debian-faq.en.txt.gz``), so glued words count as misses.
"""

from __future__ import annotations

import gzip
import logging
import re
import time
from pathlib import Path

from bench.common import Config, Json, emit, log, table
from bench.derived_corpora import DEBIAN_FAQ, PYDOC, corpus_pdf

_WORD = re.compile(r"[A-Za-z]+")


def glued(text: str) -> bool:
    words = _WORD.findall(text)
    letters = sum(map(len, words))
    return letters >= 200 and sum(len(w) for w in words if len(w) > 20) > 0.15 * letters


def vocabulary() -> set[str]:
    words: set[str] = set()
    for path in sorted((PYDOC / "_sources").rglob("*.rst.txt")):
        words.update(w.lower() for w in _WORD.findall(path.read_text("utf-8", "replace")))
    faq_txt = DEBIAN_FAQ.with_name("debian-faq.en.txt.gz")
    if faq_txt.exists():
        words.update(
            w.lower() for w in _WORD.findall(gzip.decompress(faq_txt.read_bytes()).decode())
        )
    return words


def quality(pages: list[str], vocab: set[str]) -> Json:
    words = [w for p in pages for w in _WORD.findall(p)]
    tokens = [w.lower() for w in words if len(w) >= 2]
    return {
        "words": len(words),
        "long_word_share": round(sum(len(w) > 25 for w in words) / max(1, len(words)), 5),
        "dictionary_rate": round(sum(t in vocab for t in tokens) / max(1, len(tokens)), 4),
    }


def _pypdf_pages(path: Path) -> tuple[list[str], list[float]]:
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    reader = PdfReader(path, strict=False)
    texts, seconds = [], []
    for page in reader.pages:
        t0 = time.perf_counter()
        texts.append(page.extract_text() or "")
        seconds.append(time.perf_counter() - t0)
    return texts, seconds


def _pdfium_pages(path: Path) -> tuple[list[str], list[float]]:
    import pypdfium2 as pdfium

    from sleuth.extractors.pdfium import page_text

    document = pdfium.PdfDocument(str(path))
    texts, seconds = [], []
    for number in range(len(document)):
        t0 = time.perf_counter()
        page = document[number]
        textpage = page.get_textpage()
        texts.append(page_text(textpage.get_text_bounded()))
        textpage.close()
        page.close()
        seconds.append(time.perf_counter() - t0)
    document.close()
    return texts, seconds


def run(config: Config) -> Json:
    from sleuth.extractors import pdfium

    corpus = corpus_pdf()
    vocab = vocabulary()
    log(f"pdf_engines: {len(corpus.files)} PDFs, vocabulary of {len(vocab)} words")
    pdfium.stop()
    per_file: Json = {}
    rows: list[list[object]] = []
    totals = {"pypdf": 0.0, "pypdf+detect": 0.0, "pdfium": 0.0, "pages": 0, "flagged": 0}
    texts_of: dict[str, list[list[str]]] = {"pypdf": [], "pypdf+detect": [], "pdfium": []}
    for rel in corpus.files:
        path = corpus.root / rel
        a, ta = _pypdf_pages(path)
        b, tb = _pdfium_pages(path)
        flagged = [i for i, t in enumerate(a) if glued(t)]
        mixed = [b[i] if i in flagged else t for i, t in enumerate(a)]
        detect_seconds = sum(ta) + sum(tb[i] for i in flagged)
        t0 = time.perf_counter()
        found = pdfium.extract_pages(path)  # sleuth's path: the child process
        child_seconds = time.perf_counter() - t0
        if found is None:
            raise RuntimeError(f"PDFium could not read {path}")
        pages = len(a)
        totals["pages"] += pages
        totals["flagged"] += len(flagged)
        totals["pypdf"] += sum(ta)
        totals["pypdf+detect"] += detect_seconds
        totals["pdfium"] += child_seconds
        texts_of["pypdf"].append(a)
        texts_of["pypdf+detect"].append(mixed)
        texts_of["pdfium"].append(found.pages)
        qa, qd, qp = quality(a, vocab), quality(mixed, vocab), quality(found.pages, vocab)
        per_file[rel] = {
            "pages": pages,
            "glued_pages_flagged": len(flagged),
            "ms_per_page": {
                "pypdf": round(sum(ta) / pages * 1000, 2),
                "pypdf+detect": round(detect_seconds / pages * 1000, 2),
                "pdfium_in_process": round(sum(tb) / pages * 1000, 2),
                "pdfium_child": round(child_seconds / pages * 1000, 2),
            },
            "quality": {"pypdf": qa, "pypdf+detect": qd, "pdfium": qp},
        }
        rows.append(
            [
                rel,
                pages,
                len(flagged),
                sum(ta) / pages * 1000,
                detect_seconds / pages * 1000,
                child_seconds / pages * 1000,
                qa["long_word_share"] * 100,
                qd["long_word_share"] * 100,
                qp["long_word_share"] * 100,
                qa["dictionary_rate"] * 100,
                qd["dictionary_rate"] * 100,
                qp["dictionary_rate"] * 100,
            ]
        )
    pdfium.stop()
    overall = {k: quality([p for f in v for p in f], vocab) for k, v in texts_of.items()}
    pages = int(totals["pages"])
    rows.append(
        [
            "all",
            pages,
            int(totals["flagged"]),
            totals["pypdf"] / pages * 1000,
            totals["pypdf+detect"] / pages * 1000,
            totals["pdfium"] / pages * 1000,
            *(overall[k]["long_word_share"] * 100 for k in texts_of),
            *(overall[k]["dictionary_rate"] * 100 for k in texts_of),
        ]
    )
    emit(
        table(
            "PDF text engines on corpus PDF: ms per page, % words > 25 letters, % dictionary words",
            [
                "file",
                "pages",
                "glued",
                "ms pypdf",
                "ms detect",
                "ms pdfium",
                "%long pypdf",
                "%long detect",
                "%long pdfium",
                "%dict pypdf",
                "%dict detect",
                "%dict pdfium",
            ],
            rows,
        )
    )
    emit("(pdfium = sleuth's child process, start-up included; detect = pypdf + PDFium per page)")
    return {
        "corpus": corpus.name,
        "raw_bytes": corpus.raw_bytes,
        "pages": pages,
        "engine_seconds": {k: round(float(totals[k]), 3) for k in texts_of},
        "quality": overall,
        "files": per_file,
    }
