"""Property-based bad input over the Training service and Explain: precise statuses, no INTERNAL."""
import grpc
import pytest
from fuzz_support import CaseChecker
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bioclass.v1 import classifier_pb2, classifier_pb2_grpc, image_pb2, training_pb2, training_pb2_grpc

check = CaseChecker()
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def stubs(server):
    with grpc.insecure_channel(server.address) as channel:
        yield training_pb2_grpc.TrainingStub(channel), classifier_pb2_grpc.ClassifierStub(channel)



sources = st.one_of(
    st.builds(lambda d: training_pb2.DatasetSource(dataset_id=d), st.text(max_size=20)),
    st.builds(lambda d, g: training_pb2.DatasetSource(server_dir=d, group_pattern=g),
              st.sampled_from(["", "/nonexistent", "/etc", "relative", "/tmp"]), st.sampled_from(["", "(", "P(\\d+)"])),
    st.just(training_pb2.DatasetSource()),
)
configs = st.builds(lambda arch, epochs, size, lr, aug, semi: training_pb2.TrainConfig(
    arch=arch, epochs=epochs, image_height=size, image_width=size, learning_rate=lr, augmentation=aug,
    semi_supervised=semi),
    st.sampled_from(["", "resnet18", "no_such_net", "torchvision:nope"]) | st.text(max_size=12),
    st.integers(0, 2**32 - 1), st.integers(0, 100000), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "[", "- technique: rotate\n  degrees: nan", "[{\"technique\": \"nope\"}]"]),
    st.sampled_from(["", "data", "bogus"]))


@FUZZ
@given(source=sources, config=configs)
def test_train(stubs, source, config):
    check(lambda: stubs[0].Train(training_pb2.TrainRequest(dataset=source, config=config), timeout=30))


@FUZZ
@given(job_id=st.text(max_size=30))
def test_job_calls(stubs, job_id):
    training = stubs[0]
    check(lambda: training.GetJob(training_pb2.GetJobRequest(job_id=job_id), timeout=10))
    check(lambda: training.CancelJob(training_pb2.CancelJobRequest(job_id=job_id), timeout=10))
    check(lambda: list(training.WatchJob(training_pb2.WatchJobRequest(job_id=job_id), timeout=10)))


@FUZZ
@given(fmt=st.sampled_from(["", "zip", "tar", "rar"]), sha=st.sampled_from(["", "0" * 64]),
       chunks=st.lists(st.binary(max_size=300), max_size=3), header_first=st.booleans())
def test_upload_dataset(stubs, fmt, sha, chunks, header_first):
    header = training_pb2.UploadDatasetRequest(header=training_pb2.UploadDatasetHeader(name="x", format=fmt, sha256=sha))
    body = [training_pb2.UploadDatasetRequest(chunk=c) for c in chunks]
    check(lambda: stubs[0].UploadDataset(iter([header, *body] if header_first else body), timeout=30))


@FUZZ
@given(augmentation=st.text(max_size=60) | st.sampled_from(["- technique: rotate", "[]", "{}"]),
       count=st.integers(0, 2**32 - 1), data=st.binary(max_size=200))
def test_preview_augmentation(stubs, augmentation, count, data):
    request = training_pb2.PreviewAugmentationRequest(
        image=image_pb2.Image(encoded=image_pb2.EncodedImage(data=data)), augmentation=augmentation, count=count)
    check(lambda: stubs[0].PreviewAugmentation(request, timeout=60))


@FUZZ
@given(model=st.sampled_from(["brightness-onnx", "brightness-pytorch", "missing", ""]),
       method=st.text(max_size=10) | st.sampled_from(["auto", "gradcam", "occlusion"]),
       label=st.text(max_size=8), index=st.integers(0, 2**32 - 1), window=st.integers(0, 10**6),
       data=st.binary(max_size=100))
def test_explain(stubs, model, method, label, index, window, data):
    options = classifier_pb2.ExplainOptions(method=method, occlusion_window=window, occlusion_stride=window // 2)
    if label:
        options.target_label = label
    else:
        options.target_index = index
    request = classifier_pb2.ExplainRequest(model_id=model, image=image_pb2.Image(
        encoded=image_pb2.EncodedImage(data=data)), options=options)
    check(lambda: stubs[1].Explain(request, timeout=60))


def test_server_still_serves_after_training_fuzzing(server, client):
    from models import solid_image

    assert server.alive()
    assert client.predict(solid_image(0.1), "brightness-onnx").label == "dark"
    print(f"\nfuzz cases run against Training and Explain: {check.count}")
    assert check.count >= 400
