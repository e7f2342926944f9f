#!/usr/bin/env bash
# Installs llama-cpp-python (the in-process LLM back-end) into a virtual environment, from a
# cached wheel when one exists. PyPI has no wheel for it: it compiles llama.cpp (~10 min on two
# cores). pip's own cache ignores CMAKE_ARGS, so the wheel is cached here, keyed on the version
# and the CMake arguments; a `-march=native` build is never cached (it would crash elsewhere).
# Usage: scripts/llama-wheel.sh PYTHON   (the virtual environment's python)
set -euo pipefail
python="${1:?usage: scripts/llama-wheel.sh PYTHON}"
version="${LEXO_LLAMA_CPP_VERSION:-0.3.36}"
cmake_args="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF}"
cache_root="${LEXO_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lexo/wheels}"

if "$python" -c "import importlib.metadata as m, sys; sys.exit(m.version('llama_cpp_python') != '$version')" 2>/dev/null; then
  exit 0
fi

key="$(printf '%s' "$cmake_args" | sha256sum | cut -c1-12)"
dir="$cache_root/llama-cpp-python/$version-$key"
wheel="$(ls "$dir"/llama_cpp_python-*.whl 2>/dev/null | head -1 || true)"
if [ -z "$wheel" ]; then
  echo "Building llama-cpp-python $version (once; about 10 minutes on two cores) ..."
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  CMAKE_ARGS="$cmake_args" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc 2>/dev/null || echo 2)" \
    "$python" -m pip wheel --quiet --no-deps --no-binary llama-cpp-python \
    "llama-cpp-python==$version" -w "$tmp"
  wheel="$(ls "$tmp"/llama_cpp_python-*.whl | head -1)"
  case "$cmake_args" in
    *GGML_NATIVE=ON*|*march=native*) echo "Not caching a machine-specific build ($cmake_args)." ;;
    *) mkdir -p "$dir" && cp "$wheel" "$dir/" && printf '%s\n' "$cmake_args" >"$dir/CMAKE_ARGS"
       wheel="$dir/$(basename "$wheel")" ;;
  esac
fi
# The server extra: llama.cpp's OpenAI-compatible server, which the `openai` back-end is tested
# against and scripts can run on 127.0.0.1:8004.
"$python" -m pip install --quiet "$wheel[server]"
