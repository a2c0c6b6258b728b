"""The Java client's explain and training calls against a real server, over gRPC and over py4j."""
from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))

from training_support import CLASSES, copy_images  # noqa: E402


def test_grpc_client_explains_and_reports_training_errors(java_build, server):
    output = java_build.run("org.bioclass.client.ExplainTrainCheck", "grpc", server.address, "brightness-onnx",
                            extra=(java_build.test_classes,))
    check_explanations_and_errors(output)


def test_py4j_client_explains_and_trains(java_build, py4j_server, tmp_path):
    """py4j has no streams: watchJob polls the job; the trained model is registered in the py4j server's zoo."""
    folder = copy_images(tmp_path / "cells", 8)
    output = java_build.run("org.bioclass.client.ExplainTrainCheck", "py4j", str(py4j_server.gateway_port),
                            "brightness-onnx", str(folder), extra=(java_build.test_classes,), timeout=150)
    check_explanations_and_errors(output)
    job = re.search(r"job (\S+) model (\S+) updates (\d+) states (\S+) fraction (\S+)", output)
    assert job and job.group(1) == "SUCCEEDED" and job.group(2) == "java-tiny", output
    assert int(job.group(3)) >= 2 and job.group(4).endswith("SUCCEEDED") and float(job.group(5)) == 1.0
    trained = re.search(r"trained predict 2 (\S+)", output)
    assert trained and trained.group(1) in CLASSES, output


def check_explanations_and_errors(output: str) -> None:
    lines = output.splitlines()
    maps = [re.match(r"explain (\S+) 24x10 occlusion (\S+) predicted=(\S+) min=(\S+) max=(\S+)", line)
            for line in lines if line.startswith("explain ")]
    assert all(maps) and len(maps) == 3, output
    assert [(m.group(1), m.group(2), m.group(3)) for m in maps] == [
        ("white", "bright", "bright"), ("black", "dark", "dark"), ("black-as-bright", "bright", "dark")]
    assert all(0.0 <= float(m.group(4)) <= float(m.group(5)) <= 1.0 for m in maps)
    errors = [line for line in lines if line.startswith("error ")]
    assert errors[0].startswith("error INVALID_ARGUMENT unknown class 'purple'")
    assert errors[1].startswith("error NOT_FOUND")
    assert errors[2].startswith("error PERMISSION_DENIED") and "under its data roots" in errors[2], output
