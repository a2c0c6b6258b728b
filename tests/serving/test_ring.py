"""The hop to a model process through its shared-memory ring (server/ring.py, server/session.py):
the same answers as in the server's own process for small and large batches, a process killed with a
request in flight reported with its signal, answers' headers held to the block's bounds, and pickled
replies held to numpy's arrays."""
import asyncio
import multiprocessing
import os
import pickle
import signal
import threading

import numpy as np
import pytest

from bioclass.server.inprocess import InProcessSession
from bioclass.server.ring import FIRST_SIZE, MAX_DIMS, Ring
from bioclass.server.session import MAX_REPLY_BYTES, ModelSession, SessionCrashed, read_reply
from models import SIZE

IMAGE_BYTES = 3 * SIZE * SIZE * 4


@pytest.fixture(scope="module")
def onnx_folder(test_zoo):
    return test_zoo / "brightness-onnx"


@pytest.fixture
def session(onnx_folder):
    session = ModelSession(onnx_folder, 1)
    yield session
    session.close()


def test_a_model_process_that_loads_too_slowly_is_stopped_with_the_setting_named(onnx_folder):
    from bioclass.errors import FailedPrecondition
    from bioclass.server.batching import BatchPolicy
    from bioclass.server.settings import Settings

    assert BatchPolicy.from_settings(Settings(model_load_timeout_s=0.05)).load_timeout_s == 0.05
    with pytest.raises(FailedPrecondition, match=r"loading took more than 0.05 s \(the server's model_load_timeout_s\)"):
        ModelSession(onnx_folder, 1, load_timeout_s=0.05)  # a process takes far longer than that to start


def images(count: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((count, 3, SIZE, SIZE), dtype=np.float32)


def test_small_and_large_batches_match_the_server_process(session, onnx_folder):
    reference = InProcessSession(onnx_folder, 1)
    larger_than_the_block = FIRST_SIZE // IMAGE_BYTES * 3
    batches = [[images(1, 0)], [images(2, 1), images(1, 2)], [images(larger_than_the_block, 3), images(5, 4)],
               [images(1, 5)]]
    try:
        for parts in batches:
            expected = reference.forward_parts(parts)
            np.testing.assert_allclose(session.forward_parts(parts), expected, rtol=1e-6)
            np.testing.assert_allclose(asyncio.run(session.forward_parts_async(parts)), expected, rtol=1e-6)
            assert session.hop.pass_ms > 0 and session.hop.to_child_ms >= 0 and session.hop.to_parent_ms >= 0
    finally:
        reference.close()
    assert session._ring.capacity >= (larger_than_the_block + 5) * IMAGE_BYTES  # it grew, and kept answering


def test_lone_requests_reach_the_spinning_session_with_the_same_answers(onnx_folder):
    """onnx_spinning `alone`: a request marked as the model's only one in flight (LONE on the pipe, the
    block's new name after it when the block grew) answers as a request under load and as the server process."""
    reference = InProcessSession(onnx_folder, 2, "alone")
    session = ModelSession(onnx_folder, 2, "alone")
    grown = [images(FIRST_SIZE // IMAGE_BYTES * 2, 6)]
    try:
        for parts in ([images(1, 0)], grown, [images(2, 1), images(1, 2)]):
            expected = reference.forward_parts(parts)
            np.testing.assert_allclose(reference.forward_parts(parts, alone=True), expected, rtol=1e-6)
            np.testing.assert_allclose(session.forward_parts(parts, alone=True), expected, rtol=1e-6)
            np.testing.assert_allclose(asyncio.run(session.forward_parts_async(parts, alone=True)), expected,
                                       rtol=1e-6)
            np.testing.assert_allclose(session.forward_parts(parts), expected, rtol=1e-6)
    finally:
        reference.close()
        session.close()


def test_a_process_killed_with_a_request_in_flight_is_reported(session):
    async def killed_mid_request():
        os.kill(session.process.pid, signal.SIGSTOP)  # the request arrives but is not answered
        call = asyncio.ensure_future(session.forward_parts_async([images(4, 0)]))
        await asyncio.sleep(0.05)
        assert not call.done()
        os.kill(session.process.pid, signal.SIGKILL)
        return await call

    with pytest.raises(SessionCrashed, match="killed by signal SIGKILL; the next call restarts it"):
        asyncio.run(killed_mid_request())
    assert not session.alive


def test_a_killed_process_fails_the_next_call_instead_of_hanging(session):
    os.kill(session.process.pid, signal.SIGKILL)
    session.process.join(5)
    with pytest.raises(SessionCrashed, match="SIGKILL"):
        session.forward(images(1, 0))


def test_an_answer_header_beyond_the_block_is_refused():
    """The child runs untrusted code: the parent never reads past its block for what the header says."""
    ring = Ring.create(1024)
    try:
        assert ring.write_answer(np.ones((2, 3), np.float32), 0.0, 0.0)
        answer, _ = ring.answer(0.0)
        np.testing.assert_array_equal(answer, np.ones((2, 3), np.float32))
        assert not ring.write_answer(np.ones(1024, np.float32), 0.0, 0.0)  # does not fit: sent pickled instead
        for dtype, shape in ((np.dtype("<f4"), (257,)), (np.dtype("<f8"), (1, 2**62)), (np.dtype("<f4"), (-1, 4)),
                             (np.dtype("O"), (1,)), (np.dtype("<f4"), (1,) * (MAX_DIMS + 1))):
            if len(shape) > MAX_DIMS:  # struct cannot even pack it: forge the axis count
                ring._write_header(dtype, (1,) * MAX_DIMS)
                ring.block.buf[8:12] = (MAX_DIMS + 1).to_bytes(4, "little")
            else:
                ring._write_header(dtype, shape)
            with pytest.raises(ValueError):
                ring.answer(0.0)
    finally:
        ring.close(unlink=True)


def test_a_pickled_reply_may_build_arrays_and_nothing_else():
    """Replies off the ring (errors, load notes, Grad-CAM maps) are pickled by a process that runs untrusted
    code: unpickling one that names any other callable would run it in the server."""
    maps = np.arange(6, dtype=np.float32).reshape(2, 3)
    for protocol in (4, 5):
        kind, (array, scalar) = read_reply(pickle.dumps(("ok", (maps, np.float32(2.5))), protocol=protocol))
        assert kind == "ok" and scalar == 2.5
        np.testing.assert_array_equal(array, maps)
    assert read_reply(pickle.dumps(("error", "INTERNAL", "why"))) == ("error", "INTERNAL", "why")
    with pytest.raises(pickle.UnpicklingError, match="posix.system"):
        read_reply(pickle.dumps(("ok", os.system)))


def test_a_reply_over_the_bound_stops_the_process(session):
    """A model process could send a reply of any size over its pipe: the server reads at most
    MAX_REPLY_BYTES and stops a process that sends more (here the pipe's other end stands for it)."""
    ours, theirs = multiprocessing.Pipe()
    pipe, session._conn = session._conn, ours

    def send_too_much():
        try:
            theirs.send_bytes(bytes(MAX_REPLY_BYTES + 1))
        except OSError:
            pass  # the server side closed its end without reading the rest

    writer = threading.Thread(target=send_too_much)
    writer.start()
    try:
        with pytest.raises(SessionCrashed, match="sent a reply over 64 MiB and was stopped; the next call"):
            session._receive()
        session.process.join(5)
        assert not session.alive
    finally:
        ours.close()
        writer.join()
        theirs.close()
        session._conn = pipe
