"""Shared fixtures: every test gets its own SLEUTH_HOME; the real model is loaded once."""

from __future__ import annotations

import shutil
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fakes import FakeEmbedder

# CI may start the tests with SIGINT ignored (a background job of a non-interactive shell),
# and children inherit that: the tests that press Ctrl-C want what a terminal gives. A Python
# handler here resets to the default in every child at exec.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

from sleuth.indexer.embedder import LlamaEmbedder

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"


@pytest.fixture(autouse=True)
def sleuth_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("sleuth-home")
    monkeypatch.setenv("SLEUTH_HOME", str(home))
    monkeypatch.delenv("SLEUTH_INDEX", raising=False)
    monkeypatch.delenv("SLEUTH_MODEL", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    return home


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def real_embedder() -> Iterator[LlamaEmbedder]:
    yield LlamaEmbedder()


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A private copy of the shipped examples, safe to edit."""
    target = tmp_path / "examples"
    shutil.copytree(EXAMPLES, target)
    return target
