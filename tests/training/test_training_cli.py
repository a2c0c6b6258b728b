"""The training commands of the `bioclass` CLI against the real server."""
from __future__ import annotations

import json
import shutil

import pytest
import yaml

from bioclass.cli.main import main
from bioclass.client import Client
from paths import DATASETS
from training_support import ARCH, MALARIA

JURKAT = DATASETS / "jurkat-cell-cycle"


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


def test_train_reads_16_bit_pages_with_the_chosen_scaling(training_server, tmp_path, capsys):
    """`bioclass train --scale percentile --page 0 --page 1` on Jurkat's 3-page 16-bit cells: the job and
    the served card keep both choices, the card carries the training images' own statistics, and the
    model classifies a cell file read the same way."""
    root = tmp_path / "jurkat"
    for label in ("G1", "S"):
        (root / label).mkdir(parents=True)
        for path in sorted((JURKAT / label).iterdir())[:10]:
            shutil.copy(path, root / label / path.name)
    address = ["--server", training_server.address]
    assert main(["train", str(root), "--arch", ARCH, "--epochs", "1", "--image-size", "32", "--batch-size", "8",
                 "--lr", "1e-3", "--scale", "percentile", "--page", "0", "--page", "1", "--name", "jurkat-pages",
                 "--on-server", "--detach", *address]) == 0
    job_id = capsys.readouterr().out.strip()
    with Client(training_server.address) as client:
        job = client.training.wait(job_id)
        assert job.error == "" and job.model_id == "jurkat-pages"
        assert (job.request.config.scale, list(job.request.config.pages)) == ("percentile", [0, 1])
        card = client.model("jurkat-pages")
        assert (card.preprocessing.scale, yaml.safe_load(card.card_yaml)["input"]["pages"]) == ("percentile", [0, 1])
        assert len(card.preprocessing.mean) == 3 and card.preprocessing.mean[0] != pytest.approx(0.485)
        assert card.preprocessing.std[2] == pytest.approx(1e-6)  # two pages: the third channel is zeros
        assert client.predict(next((root / "S").iterdir()), "jurkat-pages").label in ("G1", "S")
