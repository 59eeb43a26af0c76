"""Ctrl-C held where it could be lost: imports at start-up and while the model loads."""

from __future__ import annotations

import os
import signal
import time

import pytest

from sleuth.cli import common
from sleuth.cli.interrupts import held_interrupts


def _ctrl_c_that_vanishes() -> None:
    """A Ctrl-C that lands in code which drops the KeyboardInterrupt, as CPython's import
    machinery can (measured: `sleuth index` interrupted 0.3 s in went on and exited 0)."""
    try:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # the handler runs here
    except KeyboardInterrupt:
        pass


def test_a_held_ctrl_c_is_remembered() -> None:
    with held_interrupts() as interrupted:
        _ctrl_c_that_vanishes()
    assert interrupted()
    with held_interrupts() as interrupted:
        pass
    assert not interrupted()


def test_ctrl_c_while_the_model_loads_interrupts(monkeypatch: pytest.MonkeyPatch) -> None:
    def loading(*args: object, **kwargs: object) -> str:
        _ctrl_c_that_vanishes()
        return "a model"

    monkeypatch.setattr(common, "resolve_model", lambda model: None)
    monkeypatch.setattr(common, "LlamaEmbedder", loading)
    with pytest.raises(KeyboardInterrupt):
        common.make_embedder(None, None)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
