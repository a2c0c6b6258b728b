"""The `bioclass` command against a real server: output formats, exit codes, one-line errors."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tifffile
from PIL import Image

from models import solid_image


def bioclass(*args: str, server=None, env: dict | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "bioclass.cli.main", *args]
    if server is not None:
        command += ["--server", server.address]
    return subprocess.run(command, capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("images")
    Image.fromarray(solid_image(0.9)).save(folder / "white.png")
    Image.fromarray(solid_image(0.1)).save(folder / "black.jpg")
    tifffile.imwrite(folder / "stack.tif", np.stack([solid_image(0.1, dtype=np.uint16, channels=1),
                                                     solid_image(0.9, dtype=np.uint16, channels=1)]))
    return folder


def test_predict_json_lines_for_a_folder(server, image_folder):
    result = bioclass("predict", str(image_folder), "--model", "brightness-onnx", "--top", "2", "--json",
                      server=server)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    by_image = {os.path.basename(r["image"]): r for r in rows}
    assert set(by_image) == {"black.jpg", "stack.tif[0]", "stack.tif[1]", "white.png"}
    assert by_image["white.png"]["top"][0]["label"] == "bright"
    assert by_image["black.jpg"]["top"][0]["label"] == "dark"
    assert [by_image[f"stack.tif[{p}]"]["top"][0]["label"] for p in (0, 1)] == ["dark", "bright"]
    assert all(r["model"] == "brightness-onnx" and len(r["top"]) == 2 for r in rows)


def test_predict_plain_text_and_env_address(server, image_folder):
    result = bioclass("predict", str(image_folder / "white.png"), "--model", "brightness-pytorch",
                      env={"BIOCLASS_SERVER": server.address})
    assert result.returncode == 0 and result.stdout.startswith(str(image_folder / "white.png") + ": bright")


def test_models_and_frameworks(server):
    result = bioclass("models", "--json", server=server)
    models = {json.loads(line)["id"]: json.loads(line) for line in result.stdout.splitlines()}
    assert models["brightness-keras"]["framework"] == "keras" and models["brightness-keras"]["labels"] == ["bright", "dark"]
    table = bioclass("models", "--framework", "onnx", server=server).stdout
    assert "brightness-onnx" in table and "brightness-keras " not in table
    frameworks = bioclass("frameworks", "--json", server=server).stdout
    assert {json.loads(line)["name"] for line in frameworks.splitlines()} == {"pytorch", "keras", "onnx"}


def test_evaluate_table_and_json(server, tmp_path):
    for label, value in (("bright", 0.8), ("dark", 0.2)):
        (tmp_path / label).mkdir()
        Image.fromarray(solid_image(value)).save(tmp_path / label / "a.png")
    text = bioclass("evaluate", str(tmp_path), "--model", "brightness-onnx", "--model", "brightness-keras",
                    server=server)
    assert text.returncode == 0 and "confusion matrix" in text.stdout and "brightness-keras" in text.stdout
    data = json.loads(bioclass("evaluate", str(tmp_path), "--model", "brightness-onnx", "--json",
                               server=server).stdout)
    assert data["evaluations"][0]["accuracy"] == 1.0


@pytest.mark.parametrize("args, expected", [
    (["predict", "missing.png", "--model", "brightness-onnx"], "no such file or folder"),
    (["predict", "{image}", "--model", "nope"], "NOT_FOUND: unknown model 'nope'"),
])
def test_errors_are_one_line_with_non_zero_exit(server, image_folder, args, expected):
    args = [a.replace("{image}", str(image_folder / "white.png")) for a in args]
    result = bioclass(*args, server=server)
    assert result.returncode != 0
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unreachable_server_message():
    result = bioclass("models", "--server", "127.0.0.1:1")
    assert result.returncode == 1 and "cannot reach a bioclass server at 127.0.0.1:1" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_image_in_a_batch_fails_the_exit_status_but_not_the_batch(server, image_folder, tmp_path):
    (tmp_path / "bad.png").write_bytes(b"not a png")
    Image.fromarray(solid_image(0.9)).save(tmp_path / "good.png")
    result = bioclass("predict", str(tmp_path), "--model", "brightness-onnx", "--json", server=server)
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 1 and len(rows) == 2
    assert rows[0]["code"] == "INVALID_ARGUMENT" and rows[1]["top"][0]["label"] == "bright"
    assert "1 of 2 images could not be classified" in result.stderr


def test_every_server_setting_has_a_serve_flag():
    from bioclass.cli.main import _NAMED_ELSEWHERE, build_parser
    from bioclass.server.settings import Settings

    serve = build_parser(server_settings=True)._subparsers._group_actions[0].choices["serve"]
    flags = {name: _NAMED_ELSEWHERE.get(name, "--" + name.replace("_", "-")) for name in Settings.model_fields}
    assert {name: flag for name, flag in flags.items() if flag not in serve._option_string_actions} == {}
    args = serve.parse_args(["--inference-threads", "3", "--no-onnx-in-process", "--ray-autoscaling",
                             '{"max_replicas": 2}', "--data-roots", '["/data"]'])
    assert (args.setting_inference_threads, args.setting_onnx_in_process, args.setting_ray_autoscaling,
            args.setting_data_roots) == ("3", False, {"max_replicas": 2}, ["/data"])
    settings = Settings(inference_threads=args.setting_inference_threads, data_roots=args.setting_data_roots)
    assert (settings.inference_threads, [str(p) for p in settings.data_roots]) == (3, ["/data"])
