"""Reading files as text: decoding that never crashes, and knowing when it was lossless."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from sleuth.extractors.base import ExtractionError

#: How much of a file's head is inspected when guessing whether it is text.
SNIFF_BYTES = 8192

# Longest BOMs first: the UTF-32-LE BOM starts with the UTF-16-LE one.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# C0 controls that do not occur in real text; tab, newlines, form feed and ESC (ANSI colour
# codes in logs) are allowed.
_BINARY_CONTROLS = re.compile(r"[\x01-\x08\x0e-\x1a\x1c-\x1f\x7f]")

# Lone surrogates come from JSON escapes, surrogateescape'd mail headers or broken PDF
# font maps; they cannot be encoded as UTF-8, which every consumer downstream assumes.
_SURROGATES = re.compile(r"[\ud800-\udfff]")

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def read_bytes(path: Path) -> bytes:
    """Read the whole file, turning I/O failures into :class:`ExtractionError`."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ExtractionError(f"cannot read file: {exc.strerror or exc}") from exc


def bom_encoding(raw: bytes) -> tuple[str, int] | None:
    """The codec named by a leading byte-order mark and the mark's length, if there is one."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            return encoding, len(bom)
    return None


def decode(raw: bytes) -> tuple[str, bool]:
    """Decode file content; the flag is true when ``text.encode("utf-8") == raw``.

    Raises :class:`ExtractionError` for binary data (a NUL byte that no BOM explains).
    Verbatim text is returned untouched (``\\r\\n`` included) so that offsets into it
    map straight onto the file's bytes.
    """
    bom = bom_encoding(raw)
    if bom is not None:
        encoding, skip = bom
        text = raw[skip:].decode(encoding, errors="replace")
        if "\x00" in text:
            raise ExtractionError("binary file")
        return text, False
    if b"\x00" in raw:
        raise ExtractionError("binary file")
    try:
        return raw.decode("utf-8"), True
    except UnicodeDecodeError:
        pass
    try:
        # Legacy Windows text is the commonest non-UTF-8 encoding in the wild; cp1252
        # leaves five bytes undefined, and latin-1 then takes anything.
        return raw.decode("cp1252"), False
    except UnicodeDecodeError:
        return raw.decode("latin-1"), False


def read_text(path: Path) -> tuple[str, bool]:
    """:func:`read_bytes` then :func:`decode`."""
    return decode(read_bytes(path))


def looks_like_text(head: bytes) -> bool:
    """Guess from a file's first bytes whether it is text worth indexing."""
    if bom_encoding(head) is not None:
        return True
    if b"\x00" in head:
        return False
    # The head may end inside a multi-byte character, so decode incrementally, not final.
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        try:
            text = head.decode("cp1252")
        except UnicodeDecodeError:
            return False
    if not text:
        return True
    return len(_BINARY_CONTROLS.findall(text)) * 100 < len(text)


def clean(text: str) -> str:
    """Make extracted (non-verbatim) text safe to store: no NULs, no lone surrogates."""
    text = text.replace("\x00", "")
    return _SURROGATES.sub("\ufffd", text)


def line_starts(text: str) -> list[int]:
    """Offsets at which each line begins (``\\r\\n``, ``\\r`` and ``\\n`` all end a line)."""
    return [0, *(m.end() for m in _LINE_BREAK.finditer(text))]


def iter_lines(text: str) -> list[tuple[int, str]]:
    """``(offset, line)`` pairs, each line without its terminator."""
    starts = line_starts(text)
    lines: list[tuple[int, str]] = []
    for index, start in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(text)
        lines.append((start, text[start:end].rstrip("\r\n")))
    if lines and lines[-1][0] == len(text) and len(lines) > 1:
        # A final terminator does not start another (empty) line.
        lines.pop()
    return lines
