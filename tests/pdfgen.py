"""Build small, valid, text-bearing PDFs for tests and sample corpora.

pypdf can write PDFs but not lay out text, so this writes the file by hand: one Letter
page per string, each line drawn with the standard Helvetica font (no embedding needed),
and a correct cross-reference table so strict readers accept it.

    from pdfgen import make_pdf
    Path("two.pdf").write_bytes(make_pdf(["first page", "second page"], title="Demo"))

Text is encoded as WinAnsi (cp1252); characters outside it become ``?``. Lines are not
wrapped, so keep them short if the page is meant to be looked at.
"""

from __future__ import annotations

_FONT_SIZE = 12
_LEADING = 14
_LEFT = 72
_TOP = 720
_MEDIA_BOX = "[0 0 612 792]"


def _literal(raw: bytes) -> bytes:
    """A PDF literal string ``(...)`` holding ``raw``, escaped."""
    out = bytearray(b"(")
    for byte in raw:
        if byte in b"()\\":
            out += b"\\" + bytes([byte])
        elif 32 <= byte < 127:
            out.append(byte)
        else:
            out += b"\\%03o" % byte
    return bytes(out) + b")"


def _text_string(text: str) -> bytes:
    """A PDF text string (metadata): literal if ASCII, else UTF-16BE with a BOM, in hex."""
    if text.isascii():
        return _literal(text.encode("ascii"))
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode("ascii") + b">"


def _content_stream(text: str) -> bytes:
    lines = text.split("\n")
    if not text:
        return b""
    ops = [b"BT", b"/F1 %d Tf" % _FONT_SIZE, b"%d TL" % _LEADING, b"%d %d Td" % (_LEFT, _TOP)]
    for index, line in enumerate(lines):
        if index:
            ops.append(b"T*")
        ops.append(_literal(line.encode("cp1252", errors="replace")) + b" Tj")
    ops.append(b"ET")
    return b"\n".join(ops) + b"\n"


def make_pdf(pages: list[str], title: str | None = None) -> bytes:
    """A PDF with one page per entry of ``pages`` (``"\\n"`` starts a new line).

    An empty string gives a page without any text. ``title`` goes into the document
    information dictionary (``/Title``).
    """
    if not pages:
        raise ValueError("a PDF needs at least one page")
    # Object numbers: 1 catalog, 2 page tree, 3 font, then a page and its content stream
    # for each page, then the optional info dictionary.
    page_ids = [4 + 2 * index for index in range(len(pages))]
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % pid for pid in page_ids), len(pages)),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for page_id, text in zip(page_ids, pages, strict=True):
        stream = _content_stream(text)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox %s /Resources << /Font << /F1 3 0 R >> >>"
            b" /Contents %d 0 R >>" % (_MEDIA_BOX.encode("ascii"), page_id + 1)
        )
        objects.append(b"<< /Length %d >>\nstream\n%sendstream" % (len(stream), stream))
    info_id = None
    if title is not None:
        objects.append(b"<< /Title %s /Producer (sleuth pdfgen) >>" % _text_string(title))
        info_id = len(objects)

    # A binary comment line after the header marks the file as binary for transfer tools.
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: list[int] = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_offset = len(out)
    out += b"xref\n0 %d\n" % (len(objects) + 1)
    # Each entry is exactly 20 bytes, its end-of-line being space + LF.
    out += b"0000000000 65535 f \n"
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    trailer = b"/Size %d /Root 1 0 R" % (len(objects) + 1)
    if info_id is not None:
        trailer += b" /Info %d 0 R" % info_id
    out += b"trailer\n<< %s >>\nstartxref\n%d\n%%%%EOF\n" % (trailer, xref_offset)
    return bytes(out)
