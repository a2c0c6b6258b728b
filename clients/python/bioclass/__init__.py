"""bioclass: one gRPC access point for biomedical image classifiers.

The light client needs only grpcio, protobuf, numpy and Pillow::

    from bioclass import Client
    with Client("127.0.0.1:50051") as client:
        print(client.predict("cell.png", model="malaria-cnn-onnx").top)
"""
__version__ = "0.1.0"

from bioclass.errors import BioclassError  # noqa: E402


def __getattr__(name: str):
    # The client pulls in grpc; load it only when asked for.
    if name in {"Client", "Prediction"}:
        from bioclass import client

        return getattr(client, name)
    raise AttributeError(name)


__all__ = ["BioclassError", "Client", "Prediction", "__version__"]
