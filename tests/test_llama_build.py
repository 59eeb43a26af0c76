"""The installed llama.cpp is the portable build, and the setup self-check catches one that is not.

A native (-march=native) or AVX-512/AMX build works on the machine that compiled it and
segfaults on others (a KVM guest whose Xeon advertises AMX): it must never land unnoticed.
"""

from __future__ import annotations

import re
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from sleuth.indexer import selfcheck
from sleuth.indexer.llama_build import (
    NOT_PORTABLE,
    PORTABLE,
    build_info,
    cpu_flags,
    parse_features,
)

REPO = Path(__file__).resolve().parent.parent
BUILD_ENV = REPO / "tools" / "llama-build.env"


def _build_env() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in BUILD_ENV.read_text(encoding="utf-8").splitlines():
        if m := re.fullmatch(r'([A-Z_]+)="?(.*?)"?', line.strip()):
            values[m.group(1)] = m.group(2)
    return values


def test_installed_build_is_portable() -> None:
    info = build_info()
    assert {"AVX2", "FMA", "F16C"} <= set(info.features), info.features
    assert info.unportable == (), f"llama.cpp was compiled with {info.unportable}"
    assert set(info.features) & (PORTABLE | NOT_PORTABLE) <= PORTABLE


def test_build_flags_live_in_one_place() -> None:
    env = _build_env()
    args = env["LLAMA_CMAKE_ARGS"].split()
    assert "-DGGML_NATIVE=OFF" in args
    for name in ("AVX512", "AVX512_VNNI", "AMX_TILE", "AMX_INT8", "AMX_BF16", "AVX_VNNI"):
        assert f"-DGGML_{name}=OFF" in args
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    pin = f"llama-cpp-python=={env['LLAMA_CPP_PYTHON_VERSION']}"
    assert pin in project["project"]["dependencies"]
    assert build_info().version == env["LLAMA_CPP_PYTHON_VERSION"]
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert "CMAKE_ARGS" not in makefile  # flags come only from tools/llama-build.env


def test_parse_features() -> None:
    text = "CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | AVX512 = 0 | AMX_INT8 = 1 | OPENMP = 1 |"
    assert parse_features(text) == ("SSE3", "AVX", "AVX2", "AMX_INT8", "OPENMP")


def test_cpu_flags_reads_proc_cpuinfo(tmp_path: Path) -> None:
    fake = tmp_path / "cpuinfo"
    fake.write_text("processor : 0\nflags : fpu sse avx2 fma amx_tile avx512f\n")
    assert cpu_flags(fake) == ("avx2", "fma", "avx512f", "amx_tile")
    assert cpu_flags(tmp_path / "missing") == ()


@pytest.mark.model
def test_selfcheck_passes_with_the_installed_build() -> None:
    outcome = selfcheck.check()
    assert outcome.ok, outcome.message
    assert "AVX2" in outcome.message


def _fake_python(tmp_path: Path, body: str) -> str:
    script = tmp_path / "python"
    script.write_text("#!/bin/sh\ncat >/dev/null\n" + body + "\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_selfcheck_names_a_crash_and_how_to_rebuild(tmp_path: Path) -> None:
    outcome = selfcheck.check(_fake_python(tmp_path, "kill -SEGV $$"))
    assert not outcome.ok
    assert "died by SIGSEGV" in outcome.message
    assert "this CPU has:" in outcome.message
    assert selfcheck.REBUILD in outcome.message
    assert "\n" not in outcome.message


def test_selfcheck_rejects_a_wrong_vector(tmp_path: Path) -> None:
    vector = ",".join(["0.05"] * 384)
    reply = '{"vector": [' + vector + '], "build": "fake"}'
    outcome = selfcheck.check(_fake_python(tmp_path, f"echo '{reply}'"))
    assert not outcome.ok
    assert "embeds wrongly" in outcome.message


def test_selfcheck_command_fails_with_one_line(tmp_path: Path) -> None:
    code = (
        "import sys\nfrom sleuth.indexer import selfcheck\n"
        f"sys.executable = {_fake_python(tmp_path, 'kill -ILL $$')!r}\n"
        "sys.exit(selfcheck.main())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sleuth self-check failed: ")
    assert "SIGILL" in lines[0]
