"""Advisory locks on files beside the catalog: one writer per index, one watcher per index."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from sleuth.store.errors import IndexLockedError
from sleuth.store.paths import PRIVATE_FILE, make_private_dir, private_fd

LOCK_FILE = "write.lock"


class FileLock:
    """An exclusive ``flock`` held until released; the kernel drops it if the process dies.

    ``busy`` is the error message when another process holds it; ``{holder}`` in it becomes
    " (pid N)" when the holder wrote its pid.
    """

    def __init__(self, path: Path, busy: str) -> None:
        self.path = path
        self._busy = busy
        self._fd: int | None = None

    def acquire(self, *, wait: bool = False, timeout: float = 0.0) -> None:
        """Take the lock; ``wait`` blocks for good, ``timeout`` retries for that many seconds.

        A short timeout lets a manual ``sleuth index`` slip between a watcher's commits.
        """
        if not self.path.parent.is_dir():
            make_private_dir(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE)
        private_fd(fd)
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
            raise IndexLockedError(self._busy.format(holder=self._holder())) from None
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

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


class WriteLock(FileLock):
    """Held for the life of a writer."""

    def __init__(self, directory: Path) -> None:
        super().__init__(
            directory / LOCK_FILE,
            "another sleuth process{holder} is writing to this index; "
            "wait for it to finish or stop it",
        )
