"""llama.cpp's C API through llama-cpp-python's ctypes binding, without its high-level package.

``import llama_cpp`` runs the package's ``__init__``, which also imports the high-level
``Llama`` class, its chat formats and jinja2: 85 of the 106 ms the import took in a cold
``sleuth search`` (``python -X importtime``), for nothing sleuth uses. The embedder needs only
the binding module ``llama_cpp.llama_cpp``. So the package module is created from its spec
without running its ``__init__`` (as ``importlib.util.LazyLoader`` does); the first lookup of
a name the binding does not define (``llama_cpp.Llama``, after an ``import llama_cpp``
elsewhere in the process) runs the ``__init__`` in place. The binding is pinned with the
package (pyproject.toml), so its structures match the library.
"""

from __future__ import annotations

import ctypes
import importlib
import importlib.util
import sys
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

_PACKAGE = "llama_cpp"
_lock = threading.Lock()
_silenced: list[Any] = []  # the log callback, kept alive as long as llama.cpp may call it


def binding() -> Any:
    """The ``llama_cpp.llama_cpp`` module (ctypes declarations of llama.h), with llama.cpp's
    log output dropped: sleuth reports its own errors, on its own stderr lines."""
    with _lock:
        if _PACKAGE not in sys.modules:
            spec = importlib.util.find_spec(_PACKAGE)
            if spec is None or spec.loader is None:
                raise ImportError("No module named 'llama_cpp'")
            shell = importlib.util.module_from_spec(spec)
            shell.__getattr__ = _completing(shell)  # type: ignore[method-assign]
            sys.modules[_PACKAGE] = shell
        try:
            lib = importlib.import_module(f"{_PACKAGE}.llama_cpp")
        except BaseException:
            if "__getattr__" in vars(sys.modules.get(_PACKAGE, sys)):
                del sys.modules[_PACKAGE]
            raise
        if not _silenced:
            _silenced.append(lib.llama_log_callback(_drop_log))
            lib.llama_log_set(_silenced[0], ctypes.c_void_p(0))
        return lib


def _completing(package: ModuleType) -> Callable[[str], Any]:
    """The package's ``__getattr__`` until its ``__init__`` has run (PEP 562)."""

    def complete(name: str) -> Any:
        with _lock:
            if "__getattr__" in vars(package):
                del package.__getattr__
                assert package.__spec__ is not None and package.__spec__.loader is not None
                package.__spec__.loader.exec_module(package)
        return object.__getattribute__(package, name)

    return complete


def _drop_log(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    del level, text, user_data
