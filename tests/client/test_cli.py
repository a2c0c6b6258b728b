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
    assert {json.loads(line)["name"] for line in frameworks.splitlines()} == {"pytorch", "keras", "onnx", "classical"}


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
    (["predict", "missing.png", "--model", "brightness-onnx"], "bioclass: error: No such file or folder: missing.png."),
    (["predict", "{image}", "--model", "nope"], "The server has no model 'nope'. Choose one it serves: "),
])
def test_errors_are_one_line_with_non_zero_exit(server, image_folder, args, expected):
    args = [a.replace("{image}", str(image_folder / "white.png")) for a in args]
    result = bioclass(*args, server=server)
    assert result.returncode != 0
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_verbose_adds_the_status_and_the_servers_message(server, image_folder):
    result = bioclass("predict", str(image_folder / "white.png"), "--model", "nope", "--verbose", server=server)
    error, details = result.stderr.strip().splitlines()
    assert error.startswith("bioclass: error: The server has no model 'nope'. Choose one it serves: ")
    assert "brightness-onnx" in error
    assert details.startswith("bioclass: details: NOT_FOUND: unknown model 'nope'; served models: ")


UNREACHABLE = "bioclass: error: Cannot reach the bioclass server at {}. Is `bioclass serve` running there?\n"


def test_unreachable_server_message():
    result = bioclass("models", "--server", "127.0.0.1:1")
    assert (result.returncode, result.stderr) == (1, UNREACHABLE.format("127.0.0.1:1"))


def test_a_stopped_server_says_what_to_check(test_zoo, tmp_path, image_folder):
    from server_process import ServerProcess

    stopped = ServerProcess("--no-builtin", work_dir=tmp_path)
    stopped.stop()
    result = bioclass("predict", str(image_folder / "white.png"), "--model", "brightness-onnx", server=stopped)
    assert (result.returncode, result.stderr) == (1, UNREACHABLE.format(stopped.address))


def test_a_model_that_cannot_load_is_named_in_plain_words(server, image_folder):
    result = bioclass("predict", str(image_folder / "white.png"), "--model", "corrupt-weights", "--verbose",
                      server=server)
    error, details = result.stderr.strip().splitlines()
    assert result.returncode == 1
    assert error == ("bioclass: error: Model corrupt-weights could not be loaded: its file is not a valid ONNX "
                     "model. Choose another model, or register the model again with a working file.")
    assert details.startswith("bioclass: details: FAILED_PRECONDITION: model corrupt-weights cannot be loaded: ")


@pytest.fixture
def untidy_folder(tmp_path):
    """Two images, a text file and a truncated PNG, as real folders hold them."""
    Image.fromarray(solid_image(0.9)).save(tmp_path / "a-white.png")
    Image.fromarray(solid_image(0.1)).save(tmp_path / "c-black.png")
    (tmp_path / "notes.txt").write_text("stained on Monday\n")
    noise = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(noise).save(tmp_path / "bad.png")
    (tmp_path / "bad.png").write_bytes((tmp_path / "bad.png").read_bytes()[:4000])
    return tmp_path


def test_a_folder_with_stray_files_classifies_the_rest(server, untidy_folder):
    result = bioclass("predict", str(untidy_folder), "--model", "brightness-onnx", "--top", "1", server=server)
    assert result.stdout.splitlines() == [f"{untidy_folder / 'a-white.png'}: bright 1.000",
                                          f"{untidy_folder / 'c-black.png'}: dark 1.000"]
    assert result.stderr.splitlines() == [
        f"bioclass: skipped {untidy_folder / 'notes.txt'}: not an image",
        f"bioclass: skipped {untidy_folder / 'bad.png'}: truncated",
        "bioclass: 2 classified, 2 skipped: notes.txt not an image, bad.png truncated"]
    assert result.returncode == 1  # bad.png is an image that could not be classified


def test_stray_files_alone_do_not_fail_the_run(server, untidy_folder):
    (untidy_folder / "bad.png").unlink()
    result = bioclass("predict", str(untidy_folder), "--model", "brightness-onnx", "--json", server=server)
    assert [json.loads(line)["top"][0]["label"] for line in result.stdout.splitlines()] == ["bright", "dark"]
    assert result.stderr.splitlines()[-1] == "bioclass: 2 classified, 1 skipped: notes.txt not an image"
    assert result.returncode == 0


def test_a_folder_without_images_is_an_error(server, tmp_path):
    (tmp_path / "notes.txt").write_text("no images here\n")
    result = bioclass("predict", str(tmp_path), "--model", "brightness-onnx", server=server)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (f"bioclass: error: No images to classify in {tmp_path} (skipped: notes.txt not an "
                             f"image); images end in .png, .jpg, .jpeg, .tif, .tiff, .bmp.\n")


def test_every_option_has_help_text():
    import argparse

    from bioclass.cli.main import build_parser

    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    missing = [f"{name} {action.dest}" for name, parser in commands.choices.items() for action in parser._actions
               if not action.help and not isinstance(action, argparse._HelpAction)]
    assert missing == []


def test_train_defaults_to_the_recommended_architecture():
    from bioclass.cli.main import build_parser
    from bioclass.training import ARCHITECTURES

    args = build_parser().parse_args(["train", "folder"])
    assert args.arch == ARCHITECTURES[0] == "bioclass:small_cnn3"
    assert ARCHITECTURES[1] == "mobilenetv3_small_100"


def test_bad_image_in_a_batch_fails_the_exit_status_but_not_the_batch(server, image_folder, tmp_path):
    (tmp_path / "bad.png").write_bytes(b"not a png")
    Image.fromarray(solid_image(0.9)).save(tmp_path / "good.png")
    result = bioclass("predict", str(tmp_path), "--model", "brightness-onnx", "--json", server=server)
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 1 and len(rows) == 2
    assert rows[0]["code"] == "INVALID_ARGUMENT" and rows[1]["top"][0]["label"] == "bright"
    assert result.stderr.splitlines() == [f"bioclass: skipped {tmp_path / 'bad.png'}: not an image",
                                          "bioclass: 1 classified, 1 skipped: bad.png not an image"]


def test_every_server_setting_has_a_serve_flag():
    from bioclass.cli.main import _NAMED_ELSEWHERE, build_parser
    from bioclass.server.settings import Settings

    serve = build_parser(server_settings=True)._subparsers._group_actions[0].choices["serve"]
    flags = {name: _NAMED_ELSEWHERE.get(name, "--" + name.replace("_", "-")) for name in Settings.model_fields}
    assert {name: flag for name, flag in flags.items() if flag not in serve._option_string_actions} == {}
    args = serve.parse_args(["--inference-threads", "3", "--no-onnx-in-process", "--ray-autoscaling",
                             '{"max_replicas": 2}', "--max-top-k", "9"])
    assert (args.setting_inference_threads, args.setting_onnx_in_process, args.setting_ray_autoscaling) == (
        "3", False, {"max_replicas": 2})
    settings = Settings(inference_threads=args.setting_inference_threads)
    assert settings.inference_threads == 3
