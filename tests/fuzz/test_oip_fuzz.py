"""Property-based bad input over the Open Inference Protocol, sent with tritonclient's own messages
(this process never imports our OIP stubs: both define `inference.*`)."""
import grpc
import numpy as np
import pytest
from fuzz_support import CaseChecker
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# OIP RPCs we do not implement answer UNIMPLEMENTED; an unloaded model is UNAVAILABLE.
check = CaseChecker({grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.RESOURCE_EXHAUSTED,
                     grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.UNAVAILABLE})
DATATYPES = ["UINT8", "UINT16", "FP32", "FP64", "INT64", "BYTES", "BOOL", "", "NOPE"]
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def oip(server):
    from tritonclient.grpc import service_pb2, service_pb2_grpc

    with grpc.insecure_channel(server.address) as channel:
        yield service_pb2, service_pb2_grpc.GRPCInferenceServiceStub(channel)



@st.composite
def infer_requests(draw, pb):
    tensors = []
    for _ in range(draw(st.integers(0, 2))):
        shape = draw(st.lists(st.sampled_from([-1, 0, 1, 2, 3, 16, 224, 2**40]), max_size=5))
        tensors.append(pb.ModelInferRequest.InferInputTensor(
            name=draw(st.sampled_from(["image", "input", "", "other"])), datatype=draw(st.sampled_from(DATATYPES)),
            shape=shape))
    raw = [draw(st.binary(max_size=4096) | st.sampled_from([np.full((1, 16, 16, 3), np.nan, np.float32).tobytes(),
                                                             np.zeros((1, 16, 16, 3), np.uint8).tobytes()]))
           for _ in tensors]
    outputs = [pb.ModelInferRequest.InferRequestedOutputTensor(name=name)
               for name in draw(st.lists(st.sampled_from(["probabilities", "label", "nope"]), max_size=2))]
    request = pb.ModelInferRequest(model_name=draw(st.sampled_from(["brightness-onnx", "brightness-pytorch",
                                                                    "corrupt-weights", "", "missing"])),
                                   model_version=draw(st.sampled_from(["", "1", "x"])), inputs=tensors,
                                   outputs=outputs)
    if draw(st.booleans()):
        request.raw_input_contents.extend(raw)
    return request


@FUZZ
@given(data=st.data())
def test_model_infer(oip, data):
    pb, stub = oip
    request = data.draw(infer_requests(pb))
    check(lambda: stub.ModelInfer(request, timeout=30))


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_model_stream_infer(oip, data):
    pb, stub = oip
    requests = [data.draw(infer_requests(pb)) for _ in range(data.draw(st.integers(0, 4)))]

    def call():
        for response in stub.ModelStreamInfer(iter(requests), timeout=30):
            assert response.error_message or response.infer_response.model_name is not None
    check(call)


@FUZZ
@given(name=st.text(max_size=40), version=st.sampled_from(["", "1", "2", "abc"]))
def test_metadata_and_repository(oip, name, version):
    pb, stub = oip
    check(lambda: stub.ModelReady(pb.ModelReadyRequest(name=name, version=version), timeout=10))
    check(lambda: stub.ModelMetadata(pb.ModelMetadataRequest(name=name, version=version), timeout=10))
    check(lambda: stub.ModelStatistics(pb.ModelStatisticsRequest(name=name, version=version), timeout=10))
    check(lambda: stub.RepositoryModelUnload(pb.RepositoryModelUnloadRequest(model_name=name + "-x"), timeout=10))


def test_server_still_serves_after_oip_fuzzing(server, client):
    from models import solid_image

    assert server.alive()
    assert client.predict(solid_image(0.9), "brightness-onnx").label == "bright"
    print(f"\nfuzz cases run against the OIP API: {check.count}")
    assert check.count >= 250
