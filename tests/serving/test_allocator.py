"""The server keeps freed memory for the next requests (retained_heap_mb), so a request of 600 KB
does not fault in fresh pages for each of its buffers."""
import platform
import shutil

import numpy as np
import pytest
import tritonclient.grpc as tg

from server_process import ServerProcess


def minor_faults(pid: int) -> int:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[7])  # minflt, every thread of the process


def faults_per_request(server: ServerProcess, requests: int = 60) -> float:
    image = np.random.default_rng(0).random((1, 224, 224, 3), dtype=np.float32)  # 600 KB on the wire
    tensor = tg.InferInput("image", list(image.shape), "FP32")
    tensor.set_data_from_numpy(image)
    with tg.InferenceServerClient(server.address) as client:
        for _ in range(10):  # loads the model, warms the buffers
            client.infer("unbatched", [tensor])
        before = minor_faults(server.process.pid)
        for _ in range(requests):
            client.infer("unbatched", [tensor])
        return (minor_faults(server.process.pid) - before) / requests


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the tuning is glibc's mallopt")
def test_large_requests_reuse_freed_memory(serving_zoo, tmp_path):
    zoo = tmp_path / "zoo"
    shutil.copytree(serving_zoo / "unbatched", zoo / "unbatched")  # a model process only: nothing else warms the heap
    measured = {}
    for retained in ("128", "0"):
        server = ServerProcess("--zoo", str(zoo), "--no-builtin", work_dir=tmp_path / f"work-{retained}",
                               env={"BIOCLASS_RETAINED_HEAP_MB": retained})
        try:
            measured[retained] = faults_per_request(server)
        finally:
            server.stop()
    # glibc's defaults: each request's large buffers come from fresh pages (hundreds of faults here)
    assert measured["0"] > 3 * measured["128"], measured
    assert measured["128"] < 20, measured
