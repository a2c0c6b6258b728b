"""Starting the server imports no framework; models run in their own processes."""
import subprocess
import sys
from pathlib import Path

from models import solid_image

SCRIPT = """
import sys
from bioclass.server.grpc.app import BioclassServer
from bioclass.server.settings import Settings
server = BioclassServer(Settings(port=0, work_dir=sys.argv[1]))
heavy = sorted(m for m in ("torch", "tensorflow", "keras", "onnxruntime", "timm", "ray", "sklearn", "skimage", "mahotas")
               if m in sys.modules)
print("heavy:", ",".join(heavy))
"""


def test_building_the_server_imports_no_framework(tmp_path):
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "heavy:"


def test_server_process_never_maps_framework_libraries(server, client):
    for model in ("brightness-pytorch", "brightness-keras", "brightness-onnx"):
        assert client.predict(solid_image(0.9), model).label == "bright"
    maps = Path(f"/proc/{server.process.pid}/maps").read_text()
    assert "libtorch" not in maps and "tensorflow" not in maps and "onnxruntime" not in maps
    assert "_raylet" not in maps  # without --ray, Ray is never imported
