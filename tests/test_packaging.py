"""The wheel carries every module and the model, and each module imports from it."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = {
    "cli": "sleuth.cli",
    "indexer": "sleuth.indexer",
    "extractors": "sleuth.extractors",
    "store": "sleuth.store",
}


@pytest.mark.slow
def test_wheel_contains_and_imports_every_module(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("sleuth-*.whl"))
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(unpacked)
    modules = []
    for folder, package in PACKAGES.items():
        for source in sorted((REPO / folder).glob("*.py")):
            inside = f"{package.replace('.', '/')}/{source.name}"
            assert inside in names, f"{inside} missing from the wheel"
            if source.stem != "__main__":
                modules.append(f"{package}.{source.stem}" if source.stem != "__init__" else package)
        assert f"{package.replace('.', '/')}/py.typed" in names
    assert "sleuth/indexer/models/all-minilm-l6-v2.Q8_0.gguf" in names
    assert "sleuth/indexer/models/all-minilm-l6-v2.Q8_0.gguf.sha256" in names
    assert "sleuth/indexer/models/selfcheck.json" in names
    assert "sleuth/__init__.py" not in names  # an implicit namespace package
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    mod = importlib.import_module(name)\n"
        f"    assert mod.__file__.startswith({str(unpacked)!r}), (name, mod.__file__)\n"
        "from sleuth.indexer.model import shipped_model\n"
        "print(shipped_model().path)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(unpacked)}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith(str(unpacked))


def test_help_is_instant_without_heavy_imports() -> None:
    script = (
        "import sys\n"
        "from sleuth.cli.app import app\n"
        "heavy = ('llama_cpp', 'usearch', 'pypdf', 'watchdog', 'mcp', 'pydantic')\n"
        "heavy = [m for m in heavy if m in sys.modules]\n"
        "print(heavy)\n"
    )
    assert _python(script).stdout.strip() == "[]"


def test_version_flag() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sleuth.cli", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0
    assert done.stdout.startswith("sleuth ")


def test_version_answers_without_loading_any_command() -> None:
    script = (
        "import sys\n"
        "from sleuth.cli.app import run\n"
        "code = run(['--version'])\n"
        "loaded = [m for m in sys.modules if m.endswith('_cmd') and m.startswith('sleuth.cli')]\n"
        "print(code, loaded, file=sys.stderr)\n"
    )
    done = _python(script)
    assert done.stdout.startswith("sleuth ") and "llama.cpp: " in done.stdout
    assert done.stderr.strip() == "0 []"


def _python(script: str) -> subprocess.CompletedProcess[str]:
    """``script`` run by this Python in a fresh process (nothing imported yet); must exit 0."""
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
