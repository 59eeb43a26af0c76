"""E-mail messages (.eml): a short header block, a blank line, then the body text.

The header block holds whichever of ``Subject``, ``From``, ``To``, ``Cc`` and ``Date`` the
message has. The body is the best ``text/plain`` part, else the best ``text/html`` part
converted to text; attachments are ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sleuth.extractors.base import Document, ExtractionError
from sleuth.extractors.html import html_to_text
from sleuth.extractors.textio import clean, read_bytes

if TYPE_CHECKING:
    from email.message import EmailMessage, Message

_HEADERS = ("Subject", "From", "To", "Cc", "Date")


def _header(message: Message, name: str) -> str:
    try:
        value = str(message.get(name) or "")
    except Exception:  # the email package's header parser raises many types on junk
        # The unparsed value is still better than nothing.
        wanted = name.lower()
        value = next((str(raw) for key, raw in message.raw_items() if key.lower() == wanted), "")
    return clean(" ".join(value.split()))


def _part_text(part: Message) -> str:
    from email.message import EmailMessage

    try:
        content = part.get_content() if isinstance(part, EmailMessage) else None
    except Exception:  # unknown charsets, broken encodings: many exception types
        content = None
    if isinstance(content, str):
        return content
    # Unknown charset or damaged transfer encoding: take the bytes as UTF-8 at best.
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        charset = part.get_content_charset() or "utf-8"
        try:
            return payload.decode(charset, errors="replace")
        except (LookupError, ValueError):  # unknown codec, or one without "replace" (idna)
            return payload.decode("utf-8", errors="replace")
    return ""


def _body(message: EmailMessage) -> str:
    try:
        part = message.get_body(preferencelist=("plain", "html"))
    except Exception:  # walking a malformed MIME tree raises many exception types
        part = None
    if part is None:
        return ""
    text = _part_text(part)
    if part.get_content_subtype() == "html":
        return html_to_text(text, title_line=False).text
    return text


class EmailExtractor:
    """RFC 5322 messages saved as ``.eml``; ``verbatim`` is always false."""

    kind: str = "eml"

    def extract(self, path: Path) -> Document:
        # The email package takes longer to import than the rest of the registry together.
        import email
        from email import policy
        from email.message import EmailMessage

        data = read_bytes(path)
        try:
            message = email.message_from_bytes(data, policy=policy.default)
        except Exception as exc:  # the email package raises many types on junk input
            raise ExtractionError(f"unparsable mail: {str(exc)[:120]}") from exc
        if not isinstance(message, EmailMessage):
            raise ExtractionError("unparsable mail")
        header_lines = [
            f"{name}: {value}" for name in _HEADERS if (value := _header(message, name))
        ]
        body = clean(_body(message)).strip()
        text = "\n".join(header_lines)
        if body:
            text = f"{text}\n\n{body}" if text else body
        return Document(
            text=text,
            kind=self.kind,
            verbatim=False,
            title=_header(message, "Subject"),
        )
