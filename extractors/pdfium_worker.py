"""The child process that runs PDFium (pypdfium2) for :mod:`sleuth.extractors.pdfium`.

PDFium is native code: a hostile PDF could crash or hang it, and with it the whole indexer.
So it runs here, alone, and the parent only ever sees a dead pipe. Protocol, one line each
way per file: the parent writes a JSON string (the path), this process answers a JSON object
``{"pages": [text, ...], "title": str}`` or ``{"error": str}``. It exits when stdin closes.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def extract_pages(path: str) -> dict[str, Any]:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(path)
    except Exception as exc:  # PdfiumError, or anything a binding raises on hostile input
        return {"error": " ".join(str(exc).split())[:120] or type(exc).__name__}
    try:
        pages: list[str] = []
        for number in range(len(document)):
            try:
                page = document[number]
                textpage = page.get_textpage()
                pages.append(textpage.get_text_bounded())
                textpage.close()
                page.close()
            except Exception:  # one bad page must not sink the file
                pages.append("")
        try:
            title = str(document.get_metadata_dict().get("Title", "") or "")
        except Exception:  # a broken /Info dictionary must not cost us the text
            title = ""
        return {"pages": pages, "title": title}
    finally:
        document.close()


def main() -> int:
    for line in sys.stdin:
        answer = extract_pages(json.loads(line))
        # ensure_ascii: lone surrogates from broken font maps still make valid JSON lines.
        sys.stdout.write(json.dumps(answer, ensure_ascii=True) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
