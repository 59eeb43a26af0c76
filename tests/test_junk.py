"""Junk rules: what no one searches is skipped under a named reason, and real text never is."""

from __future__ import annotations

import json
import random
import sysconfig
from pathlib import Path

import pytest
from clirun import sleuth
from fakes import FakeEmbedder

from sleuth.indexer.discovery import DiscoveryOptions, Skipped, classify, walk
from sleuth.indexer.junk import JUNK_REASONS, MIN_SHAPE_BYTES, judge_content, judge_name
from sleuth.indexer.pipeline import IndexSettings, run_index
from sleuth.store.index import Index
from sleuth.store.paths import resolve_index

REPO = Path(__file__).resolve().parent.parent
STDLIB = Path(sysconfig.get_paths()["stdlib"])
JQUERY = Path("/usr/share/javascript/jquery/jquery.js")


def real_js() -> str:
    """Real, readable JavaScript: Debian's jquery.js if installed, else a code-shaped stand-in."""
    if JQUERY.is_file():
        return JQUERY.read_text(encoding="utf-8")
    lines = []
    for n in range(3000):
        lines.append(f"function handler{n}(event, options) {{")
        lines.append(f"    // Called when widget {n} changes; keeps the view in step.")
        lines.append(f"    return update(event.target, options.value + {n});")
        lines.append("}")
    return "\n".join(lines) + "\n"


def minify(js: str) -> str:
    """What a minifier does to the shape of code: no comments, no spaces, few line breaks."""
    import re

    js = re.sub(r"/\*.*?\*/", "", js, flags=re.S)
    js = re.sub(r"(?m)^\s*//.*$", "", js)
    js = re.sub(r"\s*([{}();,=+\-*/<>!&|?:])\s*", r"\1", js)
    return re.sub(r"\s*\n\s*", ";", js)


def package_lock(count: int = 300) -> str:
    rng = random.Random(1)
    packages = {"": {"name": "app", "version": "1.0.0"}}
    for n in range(count):
        name = f"pkg-{n}"
        packages[f"node_modules/{name}"] = {
            "version": f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}",
            "resolved": f"https://registry.npmjs.org/{name}/-/{name}-1.0.0.tgz",
            "integrity": "sha512-" + "".join(rng.choices("ABCDEFabcdef0123456789+/", k=86)),
            "dependencies": {f"pkg-{rng.randrange(count)}": "^1.0.0"},
        }
    return json.dumps({"name": "app", "lockfileVersion": 3, "packages": packages}, indent=2)


def numeric_csv(rows: int = 400) -> str:
    rng = random.Random(2)
    lines = ["t,x,y,z"]
    for n in range(rows):
        lines.append(f"{n},{rng.random():.6f},{rng.random():.6f},{rng.randint(0, 9999)}")
    return "\n".join(lines) + "\n"


def source_map(js: str) -> str:
    rng = random.Random(3)
    vlq = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefgh"
    segments = ",".join("".join(rng.choices(vlq, k=4)) for _ in range(3000))
    return json.dumps(
        {"version": 3, "file": "bundle.js", "sources": ["src/app.js"], "names": [],
         "mappings": segments, "sourcesContent": [js[:2000]]}
    )  # fmt: skip


def judged(path: Path, text: str | bytes) -> tuple[str, str] | None:
    data = text.encode() if isinstance(text, str) else text
    suffix = path.suffix.lower()
    return judge_name(path.name, suffix) or judge_content(path.name, suffix, data, len(data))


# -- by name -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    ["package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "Cargo.lock",
     "Gemfile.lock", "composer.lock", "go.sum", "uv.lock", "Pipfile.lock"],
)  # fmt: skip
def test_lockfiles_by_name(name: str) -> None:
    found = judge_name(name, Path(name).suffix.lower())
    assert found == ("lockfile", "a package manager's lockfile")


@pytest.mark.parametrize(
    ("name", "reason"),
    [("app.min.js", "minified"), ("site.min.css", "minified"), ("app.js.map", "source-map"),
     ("style.css.map", "source-map")],
)  # fmt: skip
def test_minified_and_source_map_names(name: str, reason: str) -> None:
    found = judge_name(name, Path(name).suffix)
    assert found is not None and found[0] == reason


def test_ordinary_names_are_not_judged_by_name() -> None:
    for name in ("package.json", "lock.py", "minify.js", "map.py", "Cargo.toml", "README.md"):
        assert judge_name(name, Path(name).suffix) is None


# -- by content ----------------------------------------------------------------------------
def test_minified_bundle_by_shape() -> None:
    bundle = minify(real_js())
    assert judged(Path("bundle.js"), bundle) == judged(Path("bundle.js"), bundle[:40000])
    found = judged(Path("bundle.js"), bundle)
    assert found is not None and found[0] == "minified"


def test_source_map_by_content() -> None:
    found = judged(Path("bundle.map"), source_map(real_js()))
    assert found == ("source-map", "a source map")


def test_data_dumps() -> None:
    found = judged(Path("readings.csv"), numeric_csv())
    assert found is not None and found[0] == "data-dump"
    brackets = json.dumps([[[i, i + 1], [i * 2, None]] for i in range(2000)])
    found = judged(Path("points.json"), brackets)
    assert found is not None and found[0] == "data-dump"


def test_base64_blob_and_control_characters_are_binary_like() -> None:
    rng = random.Random(4)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    blob = "".join(rng.choices(alphabet, k=60000))
    wrapped = "\n".join(blob[i : i + 76] for i in range(0, len(blob), 76))  # as e-mail does
    assert judged(Path("blob.txt"), "data:" + blob) == ("binary-like", "100% base64 or hex runs")
    found = judged(Path("blob.txt"), wrapped)
    assert found is None or found[0] == "binary-like"  # 76-column lines are below a run
    noisy = "".join(rng.choices("abc \x01\x02\x1b\n", k=8000))
    found = judged(Path("log.txt"), noisy)
    assert found is not None and found[0] == "binary-like"


@pytest.mark.parametrize(
    "marker",
    ["// Code generated by protoc-gen-go. DO NOT EDIT.", "# @generated by tool x",
     "/* This file was automatically generated by SWIG */",
     "# Generated by the protocol buffer compiler.  DO NOT EDIT!",
     "// AUTOGENERATED FILE - DO NOT MODIFY"],
)  # fmt: skip
def test_generated_markers_in_code(marker: str) -> None:
    body = marker + "\n" + "value = compute(item)  # an ordinary line of code\n" * 200
    found = judged(Path("gen.py"), body)
    assert found is not None and found[0] == "generated"


def test_generator_notice_in_prose_or_a_small_file_is_kept() -> None:
    notice = "This file was automatically generated, do not edit.\n"
    prose = notice + "The quick brown fox jumps over the lazy dog, again and again.\n" * 100
    assert judged(Path("NOTES.md"), prose) is None
    assert judged(Path("small.py"), notice + "x = 1\n") is None  # below MIN_SHAPE_BYTES
    assert judged(Path("conf.py"), "# generated lines follow\n" + "x = 1\n" * 1000) is None


def test_prose_with_one_paragraph_per_line_is_kept() -> None:
    paragraph = "Sleuth reads the folders you point it at and answers questions about them. " * 40
    assert judged(Path("essay.txt"), (paragraph + "\n") * 10) is None
    chinese = "这是一个关于本地搜索工具的说明文档\uff0c它会读取文件夹并回答问题\u3002" * 400
    assert judged(Path("说明.txt"), chinese) is None


def test_real_text_is_never_junk() -> None:
    """Prose and code as people write them: this repo's docs and code, the stdlib, Python docs."""
    sources = [REPO / "README.md", REPO / "examples", REPO / "indexer", REPO / "store",
               REPO / "tests" / "fixtures"]  # fmt: skip
    docs = Path("/usr/share/doc/python3.11")
    if docs.is_dir():
        sources.append(docs)
    skipped: list[Skipped] = []
    kept = list(walk(sources, DiscoveryOptions(), skipped.append))
    junk = [s for s in skipped if s.reason in JUNK_REASONS]
    # The only junk there: Sphinx's one-line search index and glossary, and the self-check's
    # reference embedding (384 numbers).
    allowed = {"searchindex.js", "glossary.json", "selfcheck.json"}
    assert {s.path.name for s in junk} <= allowed, junk
    assert len(kept) > 20


def test_stdlib_modules_are_kept_unless_they_say_they_are_generated() -> None:
    skipped: list[Skipped] = []
    kept = list(walk(sorted(STDLIB.glob("*.py")), DiscoveryOptions(), skipped.append))
    junk = [s for s in skipped if s.reason in JUNK_REASONS]
    assert all(s.reason == "generated" for s in junk), junk
    for item in junk:
        assert "generated" in item.path.read_text(encoding="utf-8")[:1000].lower()
    assert len(kept) > 150


# -- discovery, indexing and the CLI --------------------------------------------------------
def make_junk(root: Path, *, small: bool = False) -> dict[str, str]:
    """A real folder's junk beside its documents; the reason each should be skipped with.

    ``small``: each just over the size the shape rules need, for runs with the real model.
    """
    js = real_js()[:12000] if small else real_js()
    files = {
        "package-lock.json": (package_lock(20 if small else 300), "lockfile"),
        "dist/bundle.js": (minify(js), "minified"),
        "dist/bundle.js.map": (source_map(js), "source-map"),
        "data/readings.csv": (numeric_csv(160 if small else 400), "data-dump"),
    }
    for rel, (text, _) in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        assert path.stat().st_size >= MIN_SHAPE_BYTES
    return {rel: reason for rel, (_, reason) in files.items()}


def test_walk_skips_junk_and_all_text_keeps_it(sample: Path) -> None:
    expected = make_junk(sample)
    skipped: list[Skipped] = []
    kept = {p.path for p in walk([sample], DiscoveryOptions(), skipped.append)}
    reasons = {str(s.path.relative_to(sample)): s.reason for s in skipped}
    assert reasons == expected
    everything = {p.path for p in walk([sample], DiscoveryOptions(all_text=True))}
    assert everything == kept | {sample / rel for rel in expected}
    # The watcher's per-path check agrees with the walk.
    verdict = classify(sample / "dist" / "bundle.js")
    assert isinstance(verdict, Skipped) and verdict.reason == "minified"


def test_sleuthignore_still_decides_first(sample: Path) -> None:
    make_junk(sample)
    (sample / ".sleuthignore").write_text("data/\n")
    skipped: list[Skipped] = []
    list(walk([sample], DiscoveryOptions(), skipped.append))
    by_name = {s.path.name: s.reason for s in skipped}
    assert by_name["data"] == "ignored"
    assert "readings.csv" not in by_name


def test_index_summary_counts_junk_by_reason(sample: Path) -> None:
    make_junk(sample)
    directory = resolve_index().directory
    summary = run_index(directory, [sample], FakeEmbedder())
    assert summary.skipped == {"lockfile": 1, "minified": 1, "source-map": 1, "data-dump": 1}
    with Index.open(directory) as index:
        indexed = set(index.catalog.files())
    assert not any("bundle" in p or "lock" in p for p in indexed)
    settings = IndexSettings(discovery=DiscoveryOptions(all_text=True))
    again = run_index(directory, [sample], FakeEmbedder(), settings)
    assert again.files_indexed == 4 and not again.skipped


@pytest.mark.model
def test_cli_reports_junk_and_all_text_indexes_it(sample: Path) -> None:
    make_junk(sample, small=True)
    first = sleuth("index", str(sample), "--json")
    assert first.code == 0, first.err
    summary = json.loads(first.out)
    assert summary["skipped"] == {"data-dump": 1, "lockfile": 1, "minified": 1, "source-map": 1}
    assert summary["files_indexed"] == 7
    again = sleuth("index", str(sample))
    assert "4 skipped (1 data-dump, 1 lockfile, 1 minified, 1 source-map)" in again.err
    assert "--all-text" in again.err
    data = str(sample / "data")
    forced = sleuth("index", data, "--all-text", "--json", "--index", "everything")
    assert forced.code == 0, forced.err
    assert json.loads(forced.out)["files_indexed"] == 1
