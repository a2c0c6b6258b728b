#!/usr/bin/env bash
# Create bench/.venv-autokeras: AutoKeras 3.0 in its own environment (TensorFlow must not share a
# process or pins with our torch stack). AutoKeras 3.0.0 breaks with keras 3.15, hence keras 3.8;
# it does not pull TensorFlow itself, so tensorflow-cpu 2.19 is named.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv-autokeras"
python="${PYTHON:-/root/.pyenv/versions/3.11.7/bin/python3.11}"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet "autokeras==3.0.0" "keras==3.8.0" "tensorflow-cpu==2.19.*" pillow
"$venv/bin/python" -c "import autokeras, keras, tensorflow as tf; print('autokeras', autokeras.__version__, 'keras', keras.__version__, 'tensorflow', tf.__version__)"
