"""OIP tests talk to the real server with the unmodified tritonclient (never our OIP stubs)."""
import pytest


@pytest.fixture
def triton(server):
    import tritonclient.grpc as triton_grpc

    client = triton_grpc.InferenceServerClient(server.address)
    yield client
    client.close()
