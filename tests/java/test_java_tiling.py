"""The Java client gets a tiled model's answer: the same probabilities as the Python client."""
from __future__ import annotations

import pytest
from PIL import Image

from server_process import ServerProcess
from tiling_support import BANDS, banded, tiled_zoo


@pytest.fixture(scope="module")
def tiled_server(test_zoo, tmp_path_factory):
    process = ServerProcess("--zoo", str(tiled_zoo(test_zoo, tmp_path_factory.mktemp("tiled-zoo"))), "--no-builtin",
                            work_dir=tmp_path_factory.mktemp("tiled-work"))
    yield process
    process.stop()


def test_java_predictions_of_a_tiled_model_are_the_python_clients(java_build, tiled_server, tmp_path):
    from bioclass.client import Client

    files = []
    for name, bands in (("banded", BANDS), ("reversed", tuple(reversed(BANDS))), ("dim", (0.0, 0.0, 0.55))):
        Image.fromarray(banded(bands)).save(tmp_path / f"{name}.png")
        files.append(tmp_path / f"{name}.png")
    output = java_build.run("org.bioclass.client.TilingCheck", tiled_server.address, "tiled", "2",
                            *map(str, files), extra=(java_build.test_classes,))
    java = {line.split()[1]: [float(v) for v in line.split()[2:]] for line in output.splitlines()
            if line.startswith("probabilities ")}
    expected = {"banded.png": "bright", "reversed.png": "bright", "dim.png": "dark"}  # whole, all three are dark
    with Client(tiled_server.address) as client:
        for path in files:
            python = client.predict(path, "tiled")
            assert python.label == expected[path.name]
            assert java[path.name] == pytest.approx(list(python.probabilities), abs=1e-6), path.name
