"""Running server calls off the GUI thread, the same way in every tab."""
from __future__ import annotations


def start_worker(function, *args, returned=None, yielded=None, errored=None, finished=None, aborted=None,
                 **kwargs):
    """Start `function` in a napari worker thread; the given slots run on the GUI thread.

    A generator function reports each yielded value through `yielded` and can be stopped with
    `worker.quit()`. Connecting `errored` also stops napari re-raising the error as a traceback.
    """
    from napari.qt.threading import create_worker

    slots = {"returned": returned, "yielded": yielded, "errored": errored, "finished": finished,
             "aborted": aborted}
    return create_worker(function, *args, **kwargs, _connect={name: s for name, s in slots.items() if s})
