"""Health, metadata, repository and statistics RPCs through tritonclient."""
import numpy as np
import pytest
from tritonclient.utils import InferenceServerException


def test_server_is_live_and_ready_and_describes_itself(triton):
    assert triton.is_server_live() and triton.is_server_ready()
    metadata = triton.get_server_metadata()
    assert metadata.name == "bioclass" and metadata.version
    assert {"model_repository", "statistics"} <= set(metadata.extensions)


def test_model_metadata_describes_both_input_forms_and_the_outputs(triton):
    metadata = triton.get_model_metadata("brightness-onnx")
    assert metadata.name == "brightness-onnx" and list(metadata.versions) == ["1"]
    inputs = {i.name: (i.datatype, list(i.shape)) for i in metadata.inputs}
    assert inputs == {"image": ("UINT8", [-1, -1, -1, -1]), "input": ("FP32", [-1, 3, 16, 16])}
    outputs = {o.name: (o.datatype, list(o.shape)) for o in metadata.outputs}
    assert outputs == {"probabilities": ("FP32", [-1, 2]), "label": ("BYTES", [-1])}


def test_unknown_models_and_versions_are_not_found(triton):
    for call in (lambda: triton.get_model_metadata("no-such-model"), lambda: triton.is_model_ready("no-such-model"),
                 lambda: triton.get_model_metadata("brightness-onnx", model_version="2")):
        with pytest.raises(InferenceServerException) as error:
            call()
        assert error.value.status() == "StatusCode.NOT_FOUND"


def test_unimplemented_methods_say_so(triton):
    with pytest.raises(InferenceServerException) as error:
        triton.get_model_config("brightness-onnx")
    assert error.value.status() == "StatusCode.UNIMPLEMENTED"


def test_repository_load_unload_and_index(triton):
    triton.load_model("brightness-pytorch")
    index = {m.name: m for m in triton.get_model_repository_index().models}
    assert index["brightness-pytorch"].state == "READY" and "brightness-keras" in index
    triton.unload_model("brightness-pytorch")
    index = {m.name: m for m in triton.get_model_repository_index().models}
    assert index["brightness-pytorch"].state == "UNAVAILABLE"
    triton.load_model("brightness-pytorch")
    assert triton.is_model_ready("brightness-pytorch")


def test_statistics_count_images_and_batches(triton):
    import tritonclient.grpc as tg

    before = triton.get_inference_statistics("brightness-onnx").model_stats[0]
    tensor = tg.InferInput("image", [3, 8, 8, 3], "UINT8")
    tensor.set_data_from_numpy(np.zeros((3, 8, 8, 3), np.uint8))
    triton.infer("brightness-onnx", [tensor])
    after = triton.get_inference_statistics("brightness-onnx").model_stats[0]
    assert after.inference_count == before.inference_count + 3
    assert after.execution_count == before.execution_count + 1
    assert after.inference_stats.success.count == before.inference_stats.success.count + 1
    assert any(b.batch_size == 3 for b in after.batch_stats)
    every = triton.get_inference_statistics().model_stats
    assert "brightness-keras" in {s.name for s in every}
