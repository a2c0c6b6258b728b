"""Networks: pretrained weights from local files, head found for timm and torchvision."""
from __future__ import annotations

import pytest
import torch

from bioclass.errors import InvalidArgument
from bioclass.server.training import networks


def test_pretrained_weights_from_a_local_file_fill_the_body_not_the_head(tmp_path):
    source, _ = networks.build("mobilenetv3_small_050", 10, "none")
    torch.save(source.state_dict(), tmp_path / "weights.pth")
    network, origin = networks.build("mobilenetv3_small_050", 2, str(tmp_path / "weights.pth"))
    assert origin == str(tmp_path / "weights.pth")
    body = "conv_stem.weight"
    assert torch.equal(network.state_dict()[body], source.state_dict()[body])
    assert network.get_classifier().out_features == 2


def test_without_a_cache_or_a_hub_training_starts_from_scratch(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # empty caches; downloads: tests/training/test_weights.py
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    lines: list[str] = []
    _, origin = networks.build("mobilenetv3_small_050", 2, "auto", lines.append)
    assert origin == "" and lines == ["no pretrained weights for timm:mobilenetv3_small_050: HF_HUB_OFFLINE is set; "
                                      "training from scratch"]


def test_a_weights_file_that_does_not_fit_is_refused(tmp_path):
    torch.save({"unrelated.weight": torch.zeros(3)}, tmp_path / "other.pth")
    with pytest.raises(InvalidArgument, match="do not fit"):
        networks.build("mobilenetv3_small_050", 2, str(tmp_path / "other.pth"))


def test_torchvision_head_is_the_last_layer():
    network, _ = networks.build("torchvision:squeezenet1_1", 3, "none")
    body, head = networks.parameter_groups(network)
    assert [p.shape for p in head] == [torch.Size([3, 512, 1, 1]), torch.Size([3])]
    assert len(body) + len(head) == len(list(network.parameters()))


def test_bioclass_compact_cnn_trains_from_scratch_and_exports(tmp_path):
    from bioclass.server.training import export

    networks.check_architecture("bioclass:small_cnn3")
    network, origin = networks.build("bioclass:small_cnn4", 3, "auto")
    assert origin == ""  # made for training from scratch: no weights are looked for
    assert [p.shape for p in networks.head_parameters(network)] == [torch.Size([3, 128]), torch.Size([3])]
    example = torch.rand(1, 3, 48, 48)
    export.onnx(network, example, tmp_path / "model.onnx")
    logits = export.onnx_forward(tmp_path / "model.onnx", 1)(torch.rand(4, 3, 48, 48).numpy())
    assert logits.shape == (4, 3)


def test_an_unknown_bioclass_architecture_is_refused():
    from bioclass.errors import NotFound

    with pytest.raises(NotFound, match="small_cnn3"):
        networks.check_architecture("bioclass:resnet9000")
