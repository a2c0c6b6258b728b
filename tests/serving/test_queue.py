"""BatchQueue on its own: what one take() returns, the delay, the bound, callers that gave up."""
import asyncio
import time

import numpy as np
import pytest

from bioclass.errors import ResourceExhausted
from bioclass.server.batching import BatchPolicy, BatchQueue


def rows(count: int, size: int = 4) -> np.ndarray:
    return np.zeros((count, 3, size, size), np.float32)


def run(coroutine):
    return asyncio.run(coroutine)


def test_take_returns_everything_queued_up_to_the_batch_size():
    async def scenario():
        queue = BatchQueue(BatchPolicy(queue_size=100))
        for count in (2, 3, 4):
            queue.submit(rows(count))
        first = await queue.take(max_batch_size=5)
        second = await queue.take(max_batch_size=5)
        return [len(p.rows) for p in first], [len(p.rows) for p in second], len(queue)

    assert run(scenario()) == ([2, 3], [4], 0)


def test_a_request_larger_than_the_batch_size_runs_alone_and_shapes_never_mix():
    async def scenario():
        queue = BatchQueue(BatchPolicy())
        queue.submit(rows(9))
        queue.submit(rows(1))
        queue.submit(rows(1, size=8))
        return [[len(p.rows) for p in await queue.take(4)] for _ in range(3)]

    assert run(scenario()) == [[9], [1], [1]]


def test_the_delay_waits_for_a_fuller_batch_but_no_longer():
    async def scenario():
        queue = BatchQueue(BatchPolicy(max_queue_delay_us=200_000))
        queue.submit(rows(1))
        asyncio.get_running_loop().call_later(0.05, queue.submit, rows(1))
        started = time.perf_counter()
        batch = await queue.take(max_batch_size=8)
        return len(batch), time.perf_counter() - started

    size, waited = run(scenario())
    assert size == 2 and 0.15 < waited < 1.0


def test_the_queue_is_bounded_in_images_and_skips_callers_that_gave_up():
    async def scenario():
        queue = BatchQueue(BatchPolicy(queue_size=3))
        gone = queue.submit(rows(2))
        queue.submit(rows(1))
        with pytest.raises(ResourceExhausted):
            queue.submit(rows(1))
        gone.cancel()
        batch = await queue.take(max_batch_size=8)
        return [len(p.rows) for p in batch], len(queue)

    assert run(scenario()) == ([1], 0)
