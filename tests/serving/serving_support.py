"""What the serving tests share: OIP image inputs, batch statistics, simultaneous calls, metrics."""
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import tritonclient.grpc as tg

from models import solid_image


def image_input(*values: float) -> tg.InferInput:
    batch = np.stack([solid_image(v, 24) for v in values])
    tensor = tg.InferInput("image", list(batch.shape), "UINT8")
    tensor.set_data_from_numpy(batch)
    return tensor


def batch_sizes(triton, model: str) -> dict[int, int]:
    stats = triton.get_inference_statistics(model).model_stats[0]
    return {b.batch_size: b.compute_infer.count for b in stats.batch_stats}


def run_together(calls: list) -> list:
    """Start every call at the same moment, each from its own thread."""
    barrier = threading.Barrier(len(calls))

    def start(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(start, calls))


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample; labels must match exactly those given (in any order)."""
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            sample, value = line.rsplit(" ", 1)
            found = dict(part.split("=", 1) for part in sample[len(name) + 1:-1].split(",") if "=" in part)
            if {k: v.strip('"') for k, v in found.items()} == labels:
                return float(value)
    raise AssertionError(f"no sample {name} {labels}")
