"""What the installed llama.cpp was compiled for, and what this CPU offers: for bug reports,
the setup self-check, and the test that keeps non-portable builds out.

``llama_print_system_info`` lists each compiled-in CPU feature as ``NAME = 1``. A build made
with ``-march=native`` on a machine with AVX-512 or AMX lists those too, and crashes on CPUs
(or VM guests) that advertise but cannot run them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# Instructions a portable x86-64 build may use: every x86-64 CPU of the last decade has them.
PORTABLE = frozenset({"SSE3", "SSSE3", "AVX", "AVX2", "F16C", "FMA", "BMI2"})
# Compiled in, these make the build crash or misbehave somewhere; none belongs in a build we ship.
NOT_PORTABLE = frozenset(
    {
        "AVX_VNNI",
        "AVX512",
        "AVX512_VBMI",
        "AVX512_VNNI",
        "AVX512_BF16",
        "AMX_INT8",
        "AMX_TILE",
        "AMX_BF16",
    }
)
# The /proc/cpuinfo flags worth naming when a build dies on this machine.
CPU_FLAGS = (
    "avx",
    "avx2",
    "fma",
    "f16c",
    "bmi2",
    "avx_vnni",
    "avx512f",
    "avx512_vnni",
    "avx512_bf16",
    "amx_tile",
    "amx_int8",
    "amx_bf16",
)
_FEATURE = re.compile(r"([A-Z][A-Z0-9_]*) = 1")


@dataclass(frozen=True, slots=True)
class BuildInfo:
    version: str
    features: tuple[str, ...]  # compiled-in CPU features, as llama.cpp names them

    @property
    def unportable(self) -> tuple[str, ...]:
        return tuple(f for f in self.features if f in NOT_PORTABLE)

    def describe(self) -> str:
        cpu = [f for f in self.features if f in PORTABLE or f in NOT_PORTABLE]
        return f"llama-cpp-python {self.version}, CPU features {' '.join(cpu) or 'none'}"


def parse_features(system_info: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_FEATURE.findall(system_info)))


def build_info() -> BuildInfo:
    """The installed build's version (from the distribution's metadata) and features (from the
    library itself: loads llama.cpp's binding, not the whole package)."""
    from importlib import metadata

    from sleuth.indexer.llama_lib import binding

    raw = binding().llama_print_system_info()
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return BuildInfo(metadata.version("llama_cpp_python"), parse_features(text))


def describe_installed() -> str:
    """One line for bug reports (``sleuth --version``, ``sleuth status``)."""
    try:
        return build_info().describe()
    except ImportError as exc:
        return f"not installed ({exc})"


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> tuple[str, ...]:
    """The flags of :data:`CPU_FLAGS` this CPU advertises (empty where /proc is not Linux's)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ()
    for line in text.splitlines():
        if line.startswith("flags"):
            have = set(line.partition(":")[2].split())
            return tuple(f for f in CPU_FLAGS if f in have)
    return ()
