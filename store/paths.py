"""Where indexes live on disk: every path decision in one place.

Precedence: explicit argument > environment (SLEUTH_HOME, SLEUTH_INDEX) > project-local
``.sleuth/`` folder in the working directory or a parent > XDG data directory.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from sleuth.store.errors import StoreError

DEFAULT_INDEX = "default"
PROJECT_DIR = ".sleuth"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def sleuth_home() -> Path:
    env = os.environ.get("SLEUTH_HOME")
    if env:
        return Path(env).expanduser().absolute()
    xdg = os.environ.get("XDG_DATA_HOME")
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


def resolve_index(name: str | None = None, cwd: Path | None = None) -> IndexLocation:
    """Pick the index a command works on.

    A name given on the command line or in SLEUTH_INDEX always selects a named index under
    SLEUTH_HOME; otherwise a project-local ``.sleuth/`` wins over the default named index.
    """
    chosen = name or os.environ.get("SLEUTH_INDEX")
    if chosen:
        return IndexLocation(validate_name(chosen), indexes_dir() / validate_name(chosen))
    project = find_project_dir(cwd)
    if project is not None:
        return IndexLocation(f"project:{project.parent}", project, project_local=True)
    return IndexLocation(DEFAULT_INDEX, indexes_dir() / DEFAULT_INDEX)


def indexes_dir() -> Path:
    return sleuth_home() / "indexes"
