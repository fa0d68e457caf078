"""Graceful shutdown: tell every client to reconnect *before* uvicorn closes the sockets.

uvicorn answers SIGTERM by closing each WebSocket (code 1012) and only then runs the lifespan
shutdown, where the hub used to send its `reconnect` frames to sockets that were already closed
(tests/reliability/test_faults.py showed no client ever got one). `install` runs at lifespan
start-up and puts a handler in front of uvicorn's for SIGTERM and SIGINT: it sends `reconnect`
to every local connection (hub.stop), waits at most DRAIN_SECONDS for that, then hands the
signal to uvicorn, which drains as before. A second signal goes straight to uvicorn.

Messages are safe either way: a frame is acknowledged only after it is stored, and a frame whose
ack was lost is sent again with the same id and stored once.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import Any

log = logging.getLogger("helpline.drain")

DRAIN_SECONDS = 2.0
SIGNALS = (signal.SIGTERM, signal.SIGINT)


def install(tell_clients: Callable[[], Awaitable[None]]) -> bool:
    """Wraps the current handlers of SIGTERM and SIGINT; returns False where signals cannot be caught."""
    if threading.current_thread() is not threading.main_thread():
        return False
    loop = asyncio.get_running_loop()
    previous: dict[int, Any] = {sig: signal.getsignal(sig) for sig in SIGNALS}
    if not all(callable(handler) for handler in previous.values()):
        return False
    tasks: set[asyncio.Task[None]] = set()

    async def drain_then(signum: int, frame: FrameType | None) -> None:
        try:
            await asyncio.wait_for(tell_clients(), DRAIN_SECONDS)
        except Exception:  # noqa: BLE001 - the shutdown must go on whatever happened
            log.warning("could not tell every client to reconnect")
        previous[signum](signum, frame)

    def handler(signum: int, frame: FrameType | None) -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)
        loop.call_soon_threadsafe(start, signum, frame)

    def start(signum: int, frame: FrameType | None) -> None:
        task = loop.create_task(drain_then(signum, frame))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    for sig in SIGNALS:
        signal.signal(sig, handler)
    return True
