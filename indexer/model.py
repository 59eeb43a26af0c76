"""Which GGUF file to load, and what identifies it in an index's manifest."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from sleuth.indexer.errors import ModelError
from sleuth.store.manifest import ModelIdentity

SHIPPED_MODEL = "all-minilm-l6-v2.Q8_0.gguf"
_GGUF_MAGIC = b"GGUF"
_POOLING = {0: "none", 1: "mean", 2: "cls", 3: "last", 4: "rank"}


@dataclass(frozen=True, slots=True)
class ModelFile:
    path: Path
    sha256: str


def shipped_model() -> ModelFile:
    # Beside this module, as pip installs package data (and llama.cpp needs a real file).
    # Not importlib.resources: importing it cost ~10 ms of every cold query.
    folder = Path(__file__).with_name("models")
    path = folder / SHIPPED_MODEL
    digest = folder / (SHIPPED_MODEL + ".sha256")
    try:
        sha = digest.read_text(encoding="utf-8").split()[0]
    except (OSError, IndexError) as exc:
        raise ModelError(f"shipped model checksum {digest} is missing") from exc
    return ModelFile(path, sha)


def resolve_model(explicit: str | os.PathLike[str] | None = None) -> ModelFile:
    """Flag > SLEUTH_MODEL > the model that ships with sleuth."""
    chosen = explicit or os.environ.get("SLEUTH_MODEL")
    if not chosen:
        model = shipped_model()
        check_gguf(model.path)
        return model
    path = Path(chosen).expanduser().absolute()
    check_gguf(path)
    return ModelFile(path, file_sha256(path))


def check_gguf(path: Path) -> None:
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except FileNotFoundError:
        raise ModelError(f"model file {path} does not exist") from None
    except OSError as exc:
        raise ModelError(f"cannot read model file {path}: {exc.strerror}") from exc
    if magic != _GGUF_MAGIC:
        raise ModelError(f"{path} is not a GGUF model file")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def identity(model: ModelFile, name: str, dims: int, pooling_type: int) -> ModelIdentity:
    return ModelIdentity(
        name=name, sha256=model.sha256, dims=dims, pooling=_POOLING.get(pooling_type, "unknown")
    )
