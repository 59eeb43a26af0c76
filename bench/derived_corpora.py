"""The corpora of derived text (issue 10), copied or generated under ``bench/_data/corpus/``.

Corpus PDF
    The seven R manuals of Debian's ``r-doc-pdf`` (``/usr/share/R/doc/manual/R-*.pdf``:
    R-FAQ, R-admin, R-data, R-exts, R-intro, R-ints, R-lang) and the Debian FAQ of
    ``debian-faq`` (``/usr/share/doc/debian/FAQ/debian-faq.en.pdf.gz``, gunzipped): 8 PDFs,
    4.08 MB. ``apt-get install -y r-doc-pdf debian-faq``.

Corpus mixed
    Every derived format, from real public text on this machine, generated deterministically
    (fixed zip timestamps, sorted inputs, fixed mtimes):
    - PDF: R-data.pdf and the Debian FAQ PDF (copied as above);
    - HTML: the Python 3.11 tutorial pages (``python3.11-doc``: ``html/tutorial/*.html``);
    - DOCX: the Python HOWTO sources ``sorting``, ``ipaddress``, ``instrumentation``,
      ``annotations`` (``_sources/howto/*.rst.txt``), one paragraph per blank-line block,
      ``=``/``-`` underlined titles as Heading1/Heading2;
    - notebooks: the tutorial sources ``controlflow``, ``datastructures``, ``errors``
      (``_sources/tutorial/*.rst.txt``): indented ``>>>`` blocks become code cells, the rest
      markdown cells;
    - e-mail: ``whatsnew/3.{1,2,3,4}.rst.txt`` truncated at 40,000 characters, as plain
      RFC 5322 messages.
    ``apt-get install -y python3.11-doc``.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from bench.common import log
from bench.corpora import CORPUS_DIR, Corpus, _digest, _in_place

R_MANUALS = Path("/usr/share/R/doc/manual")
R_NAMES = ("R-FAQ", "R-admin", "R-data", "R-exts", "R-intro", "R-ints", "R-lang")
DEBIAN_FAQ = Path("/usr/share/doc/debian/FAQ/debian-faq.en.pdf.gz")
PYDOC = Path("/usr/share/doc/python3.11/html")
MTIME = 1_700_000_000  # every generated file gets this mtime, so indexes stay valid

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _need(path: Path, package: str) -> None:
    if not path.exists():
        raise SystemExit(f"{path} not found: apt-get update && apt-get install -y {package}")


def _materialize(name: str, files: dict[str, bytes]) -> Corpus:
    root = CORPUS_DIR / name
    wanted = {rel: _digest(data) for rel, data in files.items()}
    if not _in_place(root, wanted):
        log(f"writing corpus {name}: {len(files)} files")
        shutil.rmtree(root, ignore_errors=True)
        for rel, data in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            os.utime(path, (MTIME, MTIME))
    raw = sum(len(d) for d in files.values())
    return Corpus(name, name, root, tuple(files), raw, "Debian packages (see derived_corpora)")


def _pdfs(names: tuple[str, ...]) -> dict[str, bytes]:
    _need(R_MANUALS / "R-FAQ.pdf", "r-doc-pdf")
    _need(DEBIAN_FAQ, "debian-faq")
    files = {f"{n}.pdf": (R_MANUALS / f"{n}.pdf").read_bytes() for n in names}
    files["debian-faq.pdf"] = gzip.decompress(DEBIAN_FAQ.read_bytes())
    return files


def corpus_pdf() -> Corpus:
    return _materialize("pdf", _pdfs(R_NAMES))


def _blocks(text: str) -> list[str]:
    return [b.strip("\n") for b in text.split("\n\n") if b.strip()]


def _docx(text: str) -> bytes:
    paras: list[str] = []
    for block in _blocks(text):
        lines = block.splitlines()
        style = ""
        if len(lines) == 2 and set(lines[1]) <= {"="} and lines[1]:
            style, block = "Heading1", lines[0]
        elif len(lines) == 2 and set(lines[1]) <= {"-"} and lines[1]:
            style, block = "Heading2", lines[0]
        props = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
        run = escape(" ".join(block.split()))
        paras.append(f'<w:p>{props}<w:r><w:t xml:space="preserve">{run}</w:t></w:r></w:p>')
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:document xmlns:w="{_W}"><w:body>{"".join(paras)}<w:sectPr/></w:body></w:document>'
    )
    return _zip({"[Content_Types].xml": "<Types/>", "word/document.xml": document})


def _zip(members: dict[str, str]) -> bytes:
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in members.items():
            info = zipfile.ZipInfo(name, date_time=(2023, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, body)
    return buffer.getvalue()


def _notebook(text: str) -> bytes:
    cells: list[dict[str, object]] = []
    for block in _blocks(text):
        code = block.lstrip().startswith(">>>")
        source = "\n".join(line.strip() for line in block.splitlines()) if code else block
        cell: dict[str, object] = {
            "cell_type": "code" if code else "markdown",
            "metadata": {},
            "source": source,
        }
        if code:
            cell.update(execution_count=None, outputs=[])
        cells.append(cell)
    notebook = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(notebook, indent=1, sort_keys=True).encode("utf-8")


def _email(subject: str, text: str) -> bytes:
    head = (
        "From: Python docs <docs@python.invalid>\n"
        "To: readers@python.invalid\n"
        f"Subject: {subject}\n"
        "Date: Sun, 01 Jan 2023 00:00:00 +0000\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 8bit\n\n"
    )
    return (head + text[:40_000] + "\n").encode("utf-8")


def corpus_mixed() -> Corpus:
    _need(PYDOC / "tutorial" / "index.html", "python3.11-doc")
    sources = PYDOC / "_sources"
    files = _pdfs(("R-data",))
    for page in sorted((PYDOC / "tutorial").glob("*.html")):
        files[f"html/{page.name}"] = page.read_bytes()
    for name in ("sorting", "ipaddress", "instrumentation", "annotations"):
        text = (sources / "howto" / f"{name}.rst.txt").read_text(encoding="utf-8")
        files[f"docx/{name}.docx"] = _docx(text)
    for name in ("controlflow", "datastructures", "errors"):
        text = (sources / "tutorial" / f"{name}.rst.txt").read_text(encoding="utf-8")
        files[f"ipynb/{name}.ipynb"] = _notebook(text)
    for minor in (1, 2, 3, 4):
        text = (sources / "whatsnew" / f"3.{minor}.rst.txt").read_text(encoding="utf-8")
        files[f"eml/whatsnew-3.{minor}.eml"] = _email(f"What's new in Python 3.{minor}", text)
    return _materialize("mixed", files)
