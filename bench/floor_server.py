"""The transport floor: an OIP server that answers ModelInfer at once, without running any model.

    .venv/bin/python bench/floor_server.py   # prints its port, serves until killed

bench/serving.py calls it with the same tritonclient code as the real servers. What one call
costs here (client, two gRPC stacks, loopback, a 600 KB request) is what every Python gRPC server
pays before its model runs, so with one client no such server can beat
    in-process rate x floor rate / (in-process rate + floor rate)
even if its own work cost nothing. Uses Triton's own generated messages (tritonclient), with
the allocator tuned as the bioclass server tunes it (server/allocator.py).
"""
from __future__ import annotations

import asyncio
import sys

import grpc
import numpy as np
from tritonclient.grpc import service_pb2, service_pb2_grpc

from bioclass.server.allocator import DEFAULT_RETAINED_HEAP_MB, keep_freed_memory

CLASSES = 10
_ANSWER = np.zeros((1, CLASSES), np.float32).tobytes()


class Floor(service_pb2_grpc.GRPCInferenceServiceServicer):
    async def ModelInfer(self, request, context):
        np.frombuffer(request.raw_input_contents[0], np.float32)  # the one read every server makes
        response = service_pb2.ModelInferResponse(model_name=request.model_name, model_version="1", id=request.id)
        response.outputs.add(name="probabilities", datatype="FP32", shape=[1, CLASSES])
        response.raw_output_contents.append(_ANSWER)
        return response


async def serve() -> None:
    server = grpc.aio.server(options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)])
    service_pb2_grpc.add_GRPCInferenceServiceServicer_to_server(Floor(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(port, flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    keep_freed_memory(DEFAULT_RETAINED_HEAP_MB)
    sys.exit(asyncio.run(serve()))
