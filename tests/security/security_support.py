"""Helpers of the security suite (each attack as a test against the real server)."""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager


@contextmanager
def health_watch(address: str, interval_s: float = 0.02):
    """Checks grpc.health.v1 every `interval_s` while the body runs; yields the list of latencies (seconds)."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    latencies: list[float] = []
    done = threading.Event()

    def probe():
        with grpc.insecure_channel(address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            stub.Check(health_pb2.HealthCheckRequest(), timeout=10)  # connected before the attack
            while not done.is_set():
                started = time.perf_counter()
                stub.Check(health_pb2.HealthCheckRequest(), timeout=10)
                latencies.append(time.perf_counter() - started)
                done.wait(interval_s)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    time.sleep(0.3)
    try:
        yield latencies
    finally:
        done.set()
        thread.join(15)


def answered_promptly(latencies: list[float]) -> bool:
    """Health kept answering: 95 % of checks within 100 ms and none past 1 s. A blocked event loop stalls
    every check for as long as it is blocked; one slow check now and then is the shared machine's scheduler."""
    ordered = sorted(latencies)
    return len(ordered) >= 3 and ordered[int(0.95 * (len(ordered) - 1))] < 0.1 and ordered[-1] < 1.0
