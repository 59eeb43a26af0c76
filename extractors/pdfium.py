"""PDF page texts from PDFium (pypdfium2), extracted in a child process.

PDFium puts spaces between words where pypdf glues them (the Debian FAQ: pypdf gives
"command.Itwilldisplaythename", 17% of its words longer than 25 letters; PDFium 0.01%) and is
about 12x faster (1 ms a page against 12 on the R manuals; bench/pdf_engines.py). It is native
code, so a hostile file may crash or hang it: it runs in one long-lived child
(:mod:`sleuth.extractors.pdfium_worker`), started on the first PDF and reused. If the child
dies or runs out of time on a file, it is killed, the crash is recorded (see
:func:`take_crashes`) and the caller falls back to pypdf; the next PDF starts a new child.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

#: Seconds the child may spend on one file before it counts as hung.
TIMEOUT = 120.0
#: The child's command line.
WORKER = (sys.executable, "-m", "sleuth.extractors.pdfium_worker")

# C0 controls besides tab and newline: PDFium marks a hyphen it joined with \x02.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class PdfiumText:
    pages: list[str]  # one entry per page, in order (empty for a page without text)
    title: str


def page_text(raw: str) -> str:
    """PDFium's text for a page, with the line breaks and hyphen marks of other engines."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\x02", "")
    return _CONTROLS.sub(" ", text)


class _Child:
    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.buffer = bytearray()
        self.crashes: list[str] = []

    def _start(self) -> subprocess.Popen[bytes]:
        if self.process is None or self.process.poll() is not None:
            self.buffer.clear()
            self.process = subprocess.Popen(
                list(WORKER),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,  # PDFium's own complaints are not ours to print
                close_fds=True,
            )
        return self.process

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(OSError):
            if process.stdin is not None:
                process.stdin.close()
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()

    def _kill(self, path: Path, why: str) -> None:
        if self.process is not None:
            self.process.kill()
        self.stop()
        self.crashes.append(f"{path} ({why})")

    def extract(self, path: Path, timeout: float) -> dict[str, object] | None:
        process = self._start()
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write(json.dumps(str(path)).encode("ascii") + b"\n")
            process.stdin.flush()
        except OSError:  # BrokenPipeError: it died before reading
            self._kill(path, "PDF engine exited")
            return None
        line = self._line(process.stdout.fileno(), time.monotonic() + timeout)
        if line is None:
            try:  # a closed pipe means it is exiting: give it a moment to be reaped
                code: int | None = process.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                code = None
            self._kill(path, "PDF engine hung" if code is None else f"PDF engine died ({code})")
            return None
        try:
            answer = json.loads(line)
        except ValueError:
            self._kill(path, "PDF engine answered garbage")
            return None
        return answer if isinstance(answer, dict) else None

    def _line(self, fd: int, deadline: float) -> bytes | None:
        while (end := self.buffer.find(b"\n")) < 0:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            data = os.read(fd, 1 << 20)
            if not data:
                return None  # end of file: the child is gone
            self.buffer += data
        line = bytes(self.buffer[:end])
        del self.buffer[: end + 1]
        return line


_CHILD = _Child()
atexit.register(_CHILD.stop)


def extract_pages(path: Path, timeout: float | None = None) -> PdfiumText | None:
    """Every page's text and the title, or None if PDFium cannot read the file (or died)."""
    answer = _CHILD.extract(path.absolute(), TIMEOUT if timeout is None else timeout)
    if answer is None or "error" in answer:
        return None
    pages, title = answer.get("pages"), answer.get("title", "")
    if not isinstance(pages, list) or not all(isinstance(p, str) for p in pages):
        return None
    return PdfiumText([page_text(p) for p in pages], str(title))


def take_crashes() -> list[str]:
    """Files on which the engine crashed or hung since the last call (each fell back)."""
    crashes, _CHILD.crashes = _CHILD.crashes, []
    return crashes


def stop() -> None:
    """End the child now (it also ends when this process exits)."""
    _CHILD.stop()
