"""A bare Python gRPC OIP server: what any Python server reaches with nothing of bioclass around
the model (no validation, queue policy, metrics, statistics or model process).

    .venv/bin/python bench/bare_server.py floor                 # answers at once, runs no model
    .venv/bin/python bench/bare_server.py inline MODEL.onnx     # runs each pass in the handler
    .venv/bin/python bench/bare_server.py thread MODEL.onnx     # runs each pass in a thread of its own
    .venv/bin/python bench/bare_server.py batched MODEL.onnx    # that thread runs every queued request as one pass
    .venv/bin/python bench/bare_server.py unbatched MODEL.onnx  # that thread runs one request per pass

Each prints its port and serves until killed. bench/serving.py calls them with the same
tritonclient code as the real servers:
- `floor`: the client, two gRPC stacks and the loopback for one 600 KB request;
- `inline`: the shortest path a Python server has for one client. It blocks the event loop for
  the whole pass, which a real server may not, so it is a bound, not a design;
- `thread`: the pass in a thread, so the event loop keeps serving: the shortest path for one
  client that a real server may take;
- `batched` / `unbatched`: for several clients, dynamic batching on and off with nothing else
  per request.
ONNX Runtime is set up as the benchmark's in-process baseline. Its idle threads spin (its default,
the fastest for one client) in `inline` and `thread`, and sleep in `batched` and `unbatched`, as
bioclass's default card has them: under load spinning threads take the cores from the event
loop. The allocator is tuned as the bioclass server tunes it (server/allocator.py). Uses
Triton's own generated messages.
"""
from __future__ import annotations

import asyncio
import sys
from concurrent.futures import ThreadPoolExecutor

import grpc
import numpy as np
from tritonclient.grpc import service_pb2, service_pb2_grpc

from bioclass.server.allocator import DEFAULT_RETAINED_HEAP_MB, keep_freed_memory

CLASSES = 10
MODES = ("floor", "inline", "thread", "batched", "unbatched")


def ort_session(path: str, spinning: bool):
    import onnxruntime as ort

    from bioclass.server.backends.onnx import session_options
    from bioclass.server.settings import usable_cores

    return ort.InferenceSession(path, sess_options=session_options(usable_cores(), spinning=spinning),
                                providers=["CPUExecutionProvider"])


class Bare(service_pb2_grpc.GRPCInferenceServiceServicer):
    def __init__(self, mode: str, model: str | None):
        self.mode = mode
        self.session = ort_session(model, spinning=mode in ("inline", "thread")) if model else None
        self.input = self.session.get_inputs()[0].name if self.session else ""
        self.queue: list[tuple[np.ndarray, asyncio.Future]] = []
        self.arrived: asyncio.Event | None = None
        self.thread = ThreadPoolExecutor(1)

    async def ModelInfer(self, request, context):
        tensor = request.inputs[0]
        x = np.frombuffer(request.raw_input_contents[0], np.float32).reshape(tensor.shape)  # every server's one read
        if self.mode == "floor":
            y = np.zeros((len(x), CLASSES), np.float32)
        elif self.mode == "inline":
            y = self.session.run(None, {self.input: x})[0]
        else:
            y = await self._queued(x)
        response = service_pb2.ModelInferResponse(model_name=request.model_name, model_version="1", id=request.id)
        response.outputs.add(name="probabilities", datatype="FP32", shape=y.shape)
        response.raw_output_contents.append(y.tobytes())
        return response

    async def _queued(self, x: np.ndarray) -> np.ndarray:
        if self.arrived is None:
            self.arrived = asyncio.Event()
            asyncio.ensure_future(self._work())
        future = asyncio.get_running_loop().create_future()
        self.queue.append((x, future))
        self.arrived.set()
        return await future

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            while not self.queue:
                self.arrived.clear()
                await self.arrived.wait()
            taken = self.queue[:] if self.mode == "batched" else self.queue[:1]  # else one request per pass
            del self.queue[:len(taken)]
            parts = [x for x, _ in taken]
            x = np.concatenate(parts) if len(parts) > 1 else parts[0]
            y = (await loop.run_in_executor(self.thread, self.session.run, None, {self.input: x}))[0]
            offset = 0
            for part, future in taken:
                future.set_result(y[offset:offset + len(part)])
                offset += len(part)


async def serve(mode: str, model: str | None) -> None:
    server = grpc.aio.server(options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)])
    service_pb2_grpc.add_GRPCInferenceServiceServicer_to_server(Bare(mode, model), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(port, flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in MODES or (sys.argv[1] != "floor") != (len(sys.argv) == 3):
        sys.exit(__doc__)
    keep_freed_memory(DEFAULT_RETAINED_HEAP_MB)
    sys.exit(asyncio.run(serve(sys.argv[1], sys.argv[2] if len(sys.argv) == 3 else None)))
