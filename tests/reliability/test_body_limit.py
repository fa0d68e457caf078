"""A request body past the limit is refused before it is read (issue 17).

A 150 MB POST used to grow the server by about 250 MB before its 413: the body was read whole,
then measured. Now a `Content-Length` over the limit is refused at once, and a chunked body
without one is refused as soon as it passes the limit. Raw sockets send 150 MB both ways to a
real server process, and its resident memory (VmRSS in /proc/<pid>/status) is read around them.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

from tests.support import ServerProcess, Stack

HUGE = 150 * 1024 * 1024
CHUNK = b"x" * (1024 * 1024)
READERS = ["/console/api/login", "/report/api/reports"]  # routes that read the body of anyone's request
# Routes that refuse without reading it (no session, no POST): over the limit declared, 413 first.
OTHERS = ["/console/api/admin/canned", "/"]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def send_huge(server: ServerProcess, path: str, *, chunked: bool, size: int = HUGE) -> tuple[int, float, int, str]:
    """Streams a body of ``size`` bytes while reading the answer; returns its status, the seconds it
    took, how many body bytes went out before the server answered, and the answer's text."""
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: application/json\r\n"
            f"Origin: {server.url}\r\n{framing}\r\n\r\n").encode()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=60)
    answered = threading.Event()
    sent = 0

    def pour() -> None:
        nonlocal sent
        try:
            while sent < size and not answered.is_set():
                piece = (f"{len(CHUNK):x}\r\n".encode() + CHUNK + b"\r\n") if chunked else CHUNK
                sock.sendall(piece)
                sent += len(CHUNK)
            if chunked and not answered.is_set():
                sock.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server answered and closed: that is the point

    started = time.monotonic()
    sock.sendall(head)
    pourer = threading.Thread(target=pour, daemon=True)
    pourer.start()
    answer = b""
    try:
        while b"\r\n\r\n" not in answer:
            piece = sock.recv(65536)
            if not piece:
                break
            answer += piece
    finally:
        answered.set()
        elapsed = time.monotonic() - started
        sent_then = sent
        pourer.join(30)
        sock.close()
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
    return status, elapsed, sent_then, answer.decode("utf-8", "replace")


def refused_as_expected(status: int, expected: int) -> bool:
    """413 where the size is the first thing known; otherwise any refusal (401 with no session, 405)."""
    return status == expected if expected else 400 <= status < 500


def test_huge_bodies_are_refused_before_they_are_read(stack: Stack, server: ServerProcess) -> None:
    assert server.process is not None
    pid = server.process.pid
    for path in READERS:  # warm up: each refusal has run once before the measure
        for chunked in (False, True):
            assert send_huge(server, path, chunked=chunked, size=200_000)[0] == 413, path
    cases = [(path, chunked, 413) for path in READERS for chunked in (False, True)]
    cases += [(path, False, 413) for path in OTHERS] + [(path, True, 0) for path in OTHERS]
    before = rss_kib(pid)
    for path, chunked, expected in cases:
        status, elapsed, sent, text = send_huge(server, path, chunked=chunked)
        assert elapsed < 10, (path, chunked, elapsed)
        assert sent < HUGE // 4, f"{path}: {sent} bytes went out before the answer"
        assert refused_as_expected(status, expected), (path, chunked, text[:300])
    grown = rss_kib(pid) - before
    assert grown < 8 * 1024, f"the server grew by {grown} KiB while refusing 150 MB bodies"
    assert server.process.poll() is None and "Traceback" not in server.log()
