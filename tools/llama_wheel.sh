#!/usr/bin/env bash
# Prints the path of a llama-cpp-python wheel built with tools/llama-build.env, building it once.
#
# pip's own wheel cache is keyed by the sdist, not by CMAKE_ARGS, so a wheel compiled with other
# flags (say, a native one that crashes on AMX guests) would be silently reused. This keeps its
# own wheelhouse, one folder per hash of (version, flags, python, platform), and builds with
# pip's cache off.  Usage: tools/llama_wheel.sh [PYTHON]
#   SLEUTH_WHEELHOUSE moves the wheelhouse; LLAMA_BUILD_ENV names another flags file (only
#   bench/llama_builds.sh does that, to compare builds: the project's build is the one below).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/llama-build.env
source "${LLAMA_BUILD_ENV:-$here/llama-build.env}"
PY=${1:-python3}
tag=$("$PY" -c 'import sys, sysconfig; print(f"cp{sys.version_info[0]}{sys.version_info[1]}-{sysconfig.get_platform()}")')
key=$(printf '%s\n%s\n%s\n' "$LLAMA_CPP_PYTHON_VERSION" "$LLAMA_CMAKE_ARGS" "$tag" | sha256sum | cut -c1-16)
house=${SLEUTH_WHEELHOUSE:-${XDG_CACHE_HOME:-$HOME/.cache}/sleuth/wheels}
dir="$house/llama-cpp-python-$LLAMA_CPP_PYTHON_VERSION-$key"
wheel=$(find "$dir" -maxdepth 1 -name 'llama_cpp_python-*.whl' 2>/dev/null | head -n 1 || true)
if [ -z "$wheel" ]; then
  echo "compiling llama.cpp once (portable build, flags in ${LLAMA_BUILD_ENV:-tools/llama-build.env}): several minutes on 2 cores" >&2
  mkdir -p "$house"
  tmp=$(mktemp -d "$house/.build-XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  CMAKE_ARGS="$LLAMA_CMAKE_ARGS" FORCE_CMAKE=1 CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)} \
    "$PY" -m pip --disable-pip-version-check wheel -q --no-deps --no-cache-dir \
    --no-binary llama-cpp-python "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" -w "$tmp/wheels" >&2
  printf '%s\n' "$LLAMA_CMAKE_ARGS" >"$tmp/wheels/CMAKE_ARGS"
  # One rename makes the folder appear whole: an interrupted build leaves only a .build-* folder.
  rm -rf "$dir"
  mv "$tmp/wheels" "$dir"
  wheel=$(find "$dir" -maxdepth 1 -name 'llama_cpp_python-*.whl' | head -n 1)
fi
printf '%s\n' "$wheel"
