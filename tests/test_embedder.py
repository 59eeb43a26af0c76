"""The shipped GGUF model through LlamaEmbedder: parity with the original, ranking, safety."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

from sleuth.indexer.embedder import LlamaEmbedder
from sleuth.indexer.errors import ModelError
from sleuth.indexer.model import file_sha256, resolve_model, shipped_model
from sleuth.indexer.native_model import SAFE_BATCH_SIZES, default_threads

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference-embeddings"


def _reference() -> tuple[dict[str, object], np.ndarray]:
    meta = json.loads((REFERENCE / "minilm-l6-v2.json").read_text())
    return meta, np.load(REFERENCE / "minilm-l6-v2.npy")


@pytest.mark.skipif(not REFERENCE.exists(), reason="../shared/reference-embeddings not present")
def test_parity_with_original_model(real_embedder: LlamaEmbedder) -> None:
    meta, ref = _reference()
    sentences = meta["sentences"]
    assert isinstance(sentences, list)
    got = real_embedder.embed(sentences)
    cos = (got * ref).sum(axis=1) / np.linalg.norm(ref, axis=1)
    assert cos.mean() >= 0.999
    assert cos.min() >= 0.998


@pytest.mark.skipif(not REFERENCE.exists(), reason="../shared/reference-embeddings not present")
def test_paraphrase_pairs_rank_above_unrelated_pairs(real_embedder: LlamaEmbedder) -> None:
    meta, _ = _reference()
    sentences = meta["sentences"]
    pairs = meta["pairs"]
    assert isinstance(sentences, list) and isinstance(pairs, list)
    vecs = real_embedder.embed(sentences)
    paired = [float(vecs[a] @ vecs[b]) for a, b in pairs]
    partners = {a: b for a, b in pairs} | {b: a for a, b in pairs}
    unrelated = [
        float(vecs[a] @ vecs[b]) for a in partners for b in partners if a < b and partners[a] != b
    ]
    assert np.mean(paired) > np.mean(unrelated) + 0.2
    # Every sentence is closer to its paraphrase than to most unrelated sentences.
    for a, b in pairs:
        others = [float(vecs[a] @ vecs[o]) for o in partners if o not in (a, b)]
        assert float(vecs[a] @ vecs[b]) > np.percentile(others, 90)


def test_vectors_are_normalised_and_batching_does_not_change_them(
    real_embedder: LlamaEmbedder,
) -> None:
    texts = ["short", "a somewhat longer sentence about databases and indexes", "x " * 300, ""]
    batched = real_embedder.embed(texts)
    single = np.stack([real_embedder.embed([t])[0] for t in texts])
    assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-4)
    assert ((batched * single).sum(axis=1) > 0.9999).all()


def test_over_long_input_is_capped_not_fatal(real_embedder: LlamaEmbedder) -> None:
    # 20,000 tokens would abort the process inside llama.cpp if it ever reached it.
    text = " ".join(f"word{i % 97}" for i in range(20_000))
    assert len(real_embedder.tokenize(text)) > 20_000
    vec = real_embedder.embed([text, "tail"])
    assert vec.shape == (2, 384)
    assert np.isfinite(vec).all()
    capped = real_embedder.cap(real_embedder.tokenize(text))
    assert len(capped) == real_embedder.max_tokens
    assert capped[-1] == real_embedder.tokenize("")[-1]  # the separator survives the cut


def test_many_inputs_pack_into_batches(real_embedder: LlamaEmbedder) -> None:
    texts = [f"document number {i} talks about topic {i % 7}" for i in range(150)]
    vecs = real_embedder.embed(texts)
    assert vecs.shape == (150, 384)
    assert abs(float(vecs[3] @ real_embedder.embed([texts[3]])[0]) - 1.0) < 1e-4


def test_unsafe_batch_size_is_refused() -> None:
    assert 320 not in SAFE_BATCH_SIZES
    with pytest.raises(ModelError, match="batch size"):
        LlamaEmbedder(batch_size=320)


def test_threads_come_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLEUTH_THREADS", "1")
    assert default_threads() == 1
    monkeypatch.setenv("SLEUTH_THREADS", "bogus")
    assert default_threads() >= 1


def test_shipped_model_matches_its_checksum() -> None:
    model = shipped_model()
    assert model.path.stat().st_size > 20 * 1024 * 1024
    assert file_sha256(model.path) == model.sha256


def test_identity_describes_the_model(real_embedder: LlamaEmbedder) -> None:
    ident = real_embedder.identity
    assert ident.dims == 384
    assert ident.pooling == "mean"
    assert ident.sha256 == shipped_model().sha256


def test_bad_model_files_raise_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        resolve_model(tmp_path / "missing.gguf")
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"not a model at all")
    with pytest.raises(ModelError, match="not a GGUF"):
        resolve_model(junk)
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(shipped_model().path.read_bytes()[:4096])
    with pytest.raises(ModelError):
        LlamaEmbedder(resolve_model(truncated))


def test_the_binding_loads_without_the_high_level_package_which_stays_importable() -> None:
    # A fresh process: this one may have imported llama_cpp whole already.
    script = (
        "import sys\n"
        "from sleuth.indexer.llama_lib import binding\n"
        "binding()\n"
        "assert 'llama_cpp.llama' not in sys.modules and 'jinja2' not in sys.modules\n"
        "import llama_cpp\n"
        "print(llama_cpp.__version__, llama_cpp.Llama.__name__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    version, name = done.stdout.split()
    assert name == "Llama" and version == metadata.version("llama_cpp_python")
