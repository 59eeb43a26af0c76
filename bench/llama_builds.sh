#!/usr/bin/env bash
# Compares llama.cpp builds on this machine in one run: the project's portable build
# (tools/llama-build.env), the same plus AVX-512/VNNI, and a native (-march=native) build.
# Each is compiled once into bench/_data/wheels (keyed by its flags), installed into its own
# venv, and timed by bench/llama_build_speed.py in a child process: a build that dies on this
# CPU is reported as such. Takes ~3 minutes per build the first time.  Usage: bench/llama_builds.sh
set -uo pipefail
cd "$(dirname "$0")/.."
source tools/llama-build.env
data=bench/_data/llama-builds
mkdir -p "$data"
portable=$LLAMA_CMAKE_ARGS
avx512=${portable//-DGGML_AVX512=OFF/-DGGML_AVX512=ON}
avx512=${avx512//-DGGML_AVX512_VNNI=OFF/-DGGML_AVX512_VNNI=ON}
avx512=${avx512//-DGGML_AVX512_VBMI=OFF/-DGGML_AVX512_VBMI=ON}
avx512=${avx512//-DGGML_AVX_VNNI=OFF/-DGGML_AVX_VNNI=ON}
native="-DLLAVA_BUILD=OFF -DLLAMA_CURL=OFF"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
echo "flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -xE 'avx2|fma|f16c|avx512f|avx512_vnni|avx_vnni|amx_tile|amx_int8' | tr '\n' ' ')"
for name in portable avx512 native; do
  env_file="$data/$name.env"
  printf 'LLAMA_CPP_PYTHON_VERSION=%s\nLLAMA_CMAKE_ARGS="%s"\n' "$LLAMA_CPP_PYTHON_VERSION" "${!name}" >"$env_file"
  venv="$data/venv-$name"
  [ -x "$venv/bin/python" ] || python3.11 -m venv "$venv"
  wheel=$(LLAMA_BUILD_ENV="$env_file" SLEUTH_WHEELHOUSE="$PWD/bench/_data/wheels" tools/llama_wheel.sh "$venv/bin/python") || { echo "$name: build failed"; continue; }
  "$venv/bin/pip" install -q --disable-pip-version-check --no-deps --force-reinstall "$wheel" >/dev/null
  "$venv/bin/pip" install -q --disable-pip-version-check "$wheel" >/dev/null
  for threads in 2 1; do
    out=$("$venv/bin/python" bench/llama_build_speed.py "$threads" 2>/dev/null)
    rc=$?
    if [ $rc -ne 0 ]; then
      [ $rc -gt 128 ] && why="died by signal $((rc - 128))" || why="exit $rc"
      echo "$name, $threads threads: $why"
    else
      echo "$name, $threads threads: $out" | sed -E 's/"system_info": "([^"]*)"/"features": "\1"/'
    fi
  done
done
