"""One writer per index: an advisory lock on a file beside the catalog."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from sleuth.store.errors import IndexLockedError

LOCK_FILE = "write.lock"


class WriteLock:
    """Held for the life of a writer; released by the kernel if the process dies."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / LOCK_FILE
        self._fd: int | None = None

    def acquire(self, *, wait: bool = False, timeout: float = 0.0) -> None:
        """Take the lock; ``wait`` blocks for good, ``timeout`` retries for that many seconds.

        A short timeout lets a manual ``sleuth index`` slip between a watcher's commits.
        """
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue
            os.close(fd)
            holder = self._holder()
            raise IndexLockedError(
                f"another sleuth process{holder} is writing to this index; "
                "wait for it to finish or stop it"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def _holder(self) -> str:
        try:
            pid = self.path.read_text().strip()
        except OSError:
            return ""
        return f" (pid {pid})" if pid.isdigit() else ""

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> WriteLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
