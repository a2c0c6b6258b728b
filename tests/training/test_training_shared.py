"""What Training and AutoML share (server/training/shared.py): one model-id rule, and a helper
process that is replaced when it dies, so the call after a crash works again."""
from __future__ import annotations

import asyncio
import os

import pytest

from bioclass.errors import AlreadyExists, InvalidArgument, Unavailable
from bioclass.server.training import shared
from bioclass.server.zoo import ModelZoo
from models import write_card


def _die() -> None:
    os._exit(9)  # as a helper killed by the kernel's OOM killer would end


def test_the_helper_process_is_replaced_after_it_died():
    async def scenario():
        helper = shared.HelperProcess()
        try:
            with pytest.raises(Unavailable, match="helper process died"):
                await helper.run(_die)
            return await helper.run(pow, 3, 4)
        finally:
            helper.close()

    assert asyncio.run(scenario()) == 81


def test_one_model_id_rule_leaves_room_for_the_suffixes_a_run_adds(tmp_path):
    write_card(tmp_path / "zoo" / "fixed", "fixed", "onnx", "model.onnx")
    write_card(tmp_path / "store" / "stored", "stored", "onnx", "model.onnx")
    zoo = ModelZoo([tmp_path / "zoo"], tmp_path / "store", threads=1)
    zoo.scan()
    shared.check_model_id("a" * 64, zoo, overwrite=False)
    with pytest.raises(InvalidArgument, match="1-64 characters"):
        shared.check_model_id("a" * 65, zoo, overwrite=False)
    with pytest.raises(InvalidArgument, match="1-59 characters"):
        shared.check_model_id("a" * 60, zoo, overwrite=False, suffixes=("", "-int8"))
    with pytest.raises(AlreadyExists, match="^model stored already exists; set overwrite$"):
        shared.check_model_id("stored", zoo, overwrite=False)
    shared.check_model_id("stored", zoo, overwrite=True)  # a model this server stored may be replaced
    with pytest.raises(AlreadyExists, match="^model fixed already exists$"):  # a zoo folder's may not
        shared.check_model_id("fix", zoo, overwrite=True, suffixes=("", "ed"))
