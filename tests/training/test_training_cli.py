"""The training commands of the `bioclass` CLI against the real server."""
from __future__ import annotations

import json

from bioclass.cli.main import main
from training_support import MALARIA


def test_jobs_lists_as_json(training_server, capsys):
    assert main(["jobs", "--json", "--server", training_server.address]) == 0
    for line in capsys.readouterr().out.splitlines():
        assert {"id", "state", "arch"} <= set(json.loads(line))


def test_augment_preview_writes_pngs(training_server, tmp_path, capsys):
    config = tmp_path / "augment.yaml"
    config.write_text("- {technique: flip_vertical, p: 1.0}\n- {technique: salt_and_pepper}\n")
    image = sorted((MALARIA / "Uninfected").iterdir())[0]
    code = main(["augment-preview", str(image), "--augment", str(config), "--count", "2", "--out", str(tmp_path / "out"),
                 "--server", training_server.address])
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"{image.stem}-aug0.png", f"{image.stem}-aug1.png"]


def test_cancel_unknown_job_prints_one_error_line(training_server, capsys):
    assert main(["cancel", "0123456789ab", "--server", training_server.address]) == 1
    assert capsys.readouterr().err.strip() == "bioclass: error: Unknown job '0123456789ab'."


def test_train_detached_then_cancel(training_server, tiny_dataset, capsys):
    address = ["--server", training_server.address]
    assert main(["train", str(tiny_dataset), "--arch", "mobilenetv3_small_050", "--epochs", "500", "--image-size", "32",
                 "--on-server", "--detach", *address]) == 0
    job_id = capsys.readouterr().out.strip()
    assert main(["cancel", job_id, *address]) == 0
    assert f"job {job_id}: cancel requested" in capsys.readouterr().out
