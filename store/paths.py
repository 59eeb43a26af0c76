"""Where indexes live on disk: every path decision in one place.

Precedence: explicit argument > environment (SLEUTH_HOME, SLEUTH_INDEX) > project-local
``.sleuth/`` folder in the working directory or a parent > XDG data directory.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sleuth.store.errors import StoreError

DEFAULT_INDEX = "default"
# An index holds where every chunk of the user's files sits and what it says (lexical
# postings, codes): private to its owner, whatever the umask. Modes are set with chmod after
# creating, since a mode given to open/mkdir is only ever narrowed by the umask, never widened
# to what is asked, and an umask of 0 would leave it wide open.
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
_OPEN_BITS = 0o077
PROJECT_DIR = ".sleuth"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def sleuth_home(environ: Mapping[str, str] | None = None) -> Path:
    """``environ`` (default: this process's) decides: a server resolves for its client."""
    environ = os.environ if environ is None else environ
    env = environ.get("SLEUTH_HOME")
    if env:
        return Path(env).expanduser().absolute()
    xdg = environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return (base / "sleuth").absolute()


def validate_name(name: str) -> str:
    if not _NAME_RE.match(name):
        raise StoreError(
            f"invalid index name {name!r}: use letters, digits, '.', '_' or '-' (max 64)"
        )
    return name


def find_project_dir(start: Path | None = None) -> Path | None:
    """The nearest ``.sleuth/`` folder at or above ``start``, like git finds ``.git``."""
    here = (start or Path.cwd()).absolute()
    for folder in (here, *here.parents):
        candidate = folder / PROJECT_DIR
        if candidate.is_dir():
            return candidate
    return None


@dataclass(frozen=True, slots=True)
class IndexLocation:
    name: str
    directory: Path
    project_local: bool = False


def resolve_index(
    name: str | None = None, cwd: Path | None = None, environ: Mapping[str, str] | None = None
) -> IndexLocation:
    """Pick the index a command works on.

    A name given on the command line or in SLEUTH_INDEX always selects a named index under
    SLEUTH_HOME; otherwise a project-local ``.sleuth/`` wins over the default named index.
    Needs nothing heavy: the client of ``sleuth serve`` calls it before numpy is imported.
    """
    chosen = name or (os.environ if environ is None else environ).get("SLEUTH_INDEX")
    if chosen:
        return IndexLocation(validate_name(chosen), indexes_dir(environ) / validate_name(chosen))
    project = find_project_dir(cwd)
    if project is not None:
        return IndexLocation(f"project:{project.parent}", project, project_local=True)
    return IndexLocation(DEFAULT_INDEX, indexes_dir(environ) / DEFAULT_INDEX)


def indexes_dir(environ: Mapping[str, str] | None = None) -> Path:
    return sleuth_home(environ) / "indexes"


def make_private_dir(directory: Path) -> None:
    """Create ``directory`` and any missing parents mode 0700; tighten it if it exists.

    Parents that already exist are left as they are: only what sleuth creates is its own.
    """
    missing: list[Path] = []
    here = directory
    while not here.exists() and here != here.parent:
        missing.append(here)
        here = here.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=PRIVATE_DIR)
        folder.chmod(PRIVATE_DIR)
    tighten(directory)


def private_file(path: Path) -> None:
    """Make sure ``path`` exists with mode 0600 before a library (SQLite) opens it.

    SQLite creates its -wal and -shm files with the mode of the database file, so a private
    database keeps its logs private too.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE)
    except OSError:
        return  # a read-only place: whoever opens it next reports the real problem
    try:
        with contextlib.suppress(OSError):
            if os.fstat(fd).st_mode & _OPEN_BITS:
                os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)


def private_fd(fd: int) -> None:
    """Set mode 0600 on a file sleuth just opened or created (no-op if it is not ours)."""
    with contextlib.suppress(OSError):
        os.fchmod(fd, PRIVATE_FILE)


def is_loose(directory: Path) -> bool:
    """Whether ``directory`` is ours and others may enter it: one stat, for every open."""
    try:
        st = directory.stat()
    except OSError:
        return False
    return st.st_uid == os.getuid() and bool(st.st_mode & _OPEN_BITS)


def tighten(directory: Path) -> None:
    """Mode 0700 on ``directory`` and 0600 on the files in it that this user owns.

    For indexes made before sleuth was private by default. Symlinks are not followed, and
    what cannot be changed (another owner, a read-only mount) is left alone.
    """
    uid = os.getuid()
    with contextlib.suppress(OSError):
        st = directory.stat()
        if st.st_uid == uid and st.st_mode & _OPEN_BITS:
            directory.chmod(PRIVATE_DIR)
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        with contextlib.suppress(OSError):
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and st.st_uid == uid and st.st_mode & _OPEN_BITS:
                os.chmod(entry.path, PRIVATE_FILE)  # noqa: PTH101
