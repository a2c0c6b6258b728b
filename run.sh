#!/usr/bin/env bash
# bioclass in two commands on a fresh machine (Python 3.11 and pip):
#   ./run.sh serve [ARGS...]   set up .venv, then serve the built-in model zoo on 127.0.0.1:50051
#   ./run.sh test  [PYTEST...] set up .venv and the test tools (Java, ImageJ), then run the whole suite
# The environment lives in .venv (BIOCLASS_VENV overrides); set-up is skipped when nothing changed.
set -euo pipefail
cd "$(dirname "$0")"

venv=${BIOCLASS_VENV:-.venv}
python=${PYTHON:-python3}

setup() {
  local stamp="$venv/.bioclass-setup" wanted
  wanted=$(cat setup.cfg requirements/constraints.txt plugins/napari/setup.cfg 2>/dev/null | sha256sum | cut -c1-16)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
    return
  fi
  echo "setting up $venv (first run takes a few minutes)" >&2
  [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q -c requirements/constraints.txt -e '.[all,test]'
  if [ -f plugins/napari/setup.cfg ]; then
    "$venv/bin/python" -m pip install -q -c requirements/constraints.txt -e 'plugins/napari[testing]'
  fi
  echo "$wanted" > "$stamp"
}

command=${1:-serve}
shift || true
case "$command" in
  serve)
    setup
    exec "$venv/bin/bioclass" serve "$@"
    ;;
  test)
    setup
    [ -x scripts/install_java_deps.sh ] && scripts/install_java_deps.sh
    "$venv/bin/python" scripts/gen_protos.py --check
    export QT_QPA_PLATFORM=offscreen
    # The slowest tests are listed at the end, so that the suite's time can be watched from any run.
    status=0
    pytest_part() {  # one pytest process; 5 (a -k that selects none of its tests) is not a failure
      "$venv/bin/python" -m pytest -p no:cacheprovider "$@" || { code=$?; [ "$code" -eq 5 ] || status=$code; }
    }
    # Test paths go to the process that owns them; without any, each process runs its whole folder.
    options=() suite=() napari=() value_next=0
    for arg in "$@"; do
      if [ "$value_next" = 1 ]; then options+=("$arg"); value_next=0; continue; fi
      case "$arg" in
        -k|-m|-p|-o|-c|-n|--deselect|--ignore|--rootdir|--basetemp) options+=("$arg"); value_next=1 ;;
        -*) options+=("$arg") ;;
        *) if [ ! -e "${arg%%::*}" ]; then options+=("$arg")
           elif [[ "$(realpath --relative-to=. "${arg%%::*}")/" == plugins/napari/* ]]; then napari+=("$arg")
           else suite+=("$arg"); fi ;;
      esac
    done
    if [ ${#suite[@]} -eq 0 ] && [ ${#napari[@]} -eq 0 ]; then suite=(tests) napari=(plugins/napari/tests); fi
    # napari's OpenGL in a pytest process of its own: after the rest of the suite, one CI run's process
    # got no OpenGL context for its first viewer, where the same napari tests alone passed. It runs beside
    # the rest (a minute, while the first API tests run) and its output follows theirs.
    napari_pid=""
    if [ ${#napari[@]} -gt 0 ] && [ -d plugins/napari/tests ]; then
      napari_log=$(mktemp)
      "$venv/bin/python" -m pytest -p no:cacheprovider --durations=10 "${options[@]}" "${napari[@]}" \
        >"$napari_log" 2>&1 &
      napari_pid=$!
    fi
    [ ${#suite[@]} -gt 0 ] && pytest_part --durations=30 "${options[@]}" "${suite[@]}"
    if [ -n "$napari_pid" ]; then
      code=0
      wait "$napari_pid" || code=$?
      echo "== the napari plugin's tests (ran beside the suite above) =="
      cat "$napari_log"
      rm -f "$napari_log"
      [ "$code" -eq 0 ] || [ "$code" -eq 5 ] || status=$code
    fi
    exit "$status"
    ;;
  *)
    echo "usage: ./run.sh serve [bioclass serve options] | ./run.sh test [pytest options]" >&2
    exit 2
    ;;
esac
