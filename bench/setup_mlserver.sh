#!/usr/bin/env bash
# Create bench/.venv-mlserver: MLServer 1.7 in its own environment (its pins clash with ours),
# with ONNX Runtime to serve the benchmark's ONNX files through a custom MLModel runtime.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv-mlserver"
python="${PYTHON:-/root/.pyenv/versions/3.11.7/bin/python3.11}"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
# uvloop 0.22+ has no implicit event loop, which MLServer 1.7 worker processes need.
"$venv/bin/pip" install --quiet "mlserver==1.7.1" "onnxruntime==1.32.0" "uvloop<0.22"
"$venv/bin/python" -c "import mlserver, onnxruntime; print('mlserver', mlserver.__version__, 'onnxruntime', onnxruntime.__version__)"
