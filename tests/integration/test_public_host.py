"""With HELPLINE_PUBLIC_ORIGIN set, a request for another Host is refused; redirects never carry
the Host a request named (issue 17). Raw requests over a socket, so the Host is exactly as sent."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.support import ServerProcess, Stack, free_port


def raw_get(server: ServerProcess, path: str, host: str, method: str = "GET",
            body: bytes = b"") -> tuple[int, dict[str, str], str]:
    """Sends one HTTP/1.1 request with exactly this Host header; returns status, headers and body."""
    head = (f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode("latin-1")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head_bytes, _, payload = answer.partition(b"\r\n\r\n")
    lines = head_bytes.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, payload.decode("utf-8", "replace")


def test_another_host_is_refused_when_the_public_origin_is_set(
        stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    server = start_server(port, HELPLINE_PUBLIC_ORIGIN=origin)
    own = f"127.0.0.1:{port}"

    assert raw_get(server, "/", own)[0] == 200
    for path, method in (("/", "GET"), ("/console", "GET"), ("/console/api/login", "POST"),
                         ("/report/api/readers", "GET"), ("/openapi.json", "GET")):
        for host in ("evil.example", f"evil.example:{port}", "127.0.0.1", f"localhost:{port}", ""):
            status, headers, text = raw_get(server, path, host, method, b"{}" if method == "POST" else b"")
            assert status == 421, (path, host, status)
            assert origin in text and "evil" not in text
            assert headers["x-content-type-options"] == "nosniff"
    assert "Kjo linjë ndihme përgjigjet vetëm në" in raw_get(server, "/", "evil.example")[2]
    assert "This helpline answers only at" in raw_get(server, "/?lang=en", "evil.example")[2]
    assert raw_get(server, "/healthz", "10.0.0.7:8000")[0] == 200  # a load balancer's check by address

    async def sockets() -> None:
        url = f"ws://127.0.0.1:{port}/ws/child"
        with pytest.raises(InvalidStatus):
            async with connect(url, additional_headers={"Host": "evil.example"}):
                pass
        async with connect(url) as ws:  # the right Host: the child's socket opens
            await ws.send('{"type": "ping", "id": "p1"}')
            assert '"ack"' in await asyncio.wait_for(ws.recv(), 10)

    asyncio.run(sockets())


def test_redirects_never_carry_the_requests_host(stack: Stack, start_server: Callable[..., ServerProcess]) -> None:
    port = free_port()
    for server in (start_server(), start_server(port, HELPLINE_PUBLIC_ORIGIN=f"http://127.0.0.1:{port}")):
        host = "evil.example" if server.port != port else f"127.0.0.1:{port}"
        for path, expected in (("/console/", "/console"), ("/help", "/#learn"), ("/help?lang=en", "/?lang=en#learn")):
            status, headers, _ = raw_get(server, path, host)
            assert status in (301, 302, 303, 307, 308), (path, status)
            assert headers["location"] == expected, (path, headers["location"])
