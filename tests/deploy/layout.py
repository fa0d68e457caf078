"""The documented production layout, started from the files in deploy/ (docs/deploy.md).

Caddy runs deploy/Caddyfile with the values of deploy/caddy.env, and two `helpline serve`
processes run the command line of deploy/helpline@.service with deploy/helpline.env, on their own
PostgreSQL database and Redis prefix. The test replaces only what docs/deploy.md names as
install-specific: the `CADDY_*` variables (name, certificate authority, ports, log folder,
upstreams), and in the app's file the database, Redis, public origin, metrics token and the
/var/lib/helpline and /opt/helpline folders.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support import ROOT, ServerProcess, Stack, free_port

DEPLOY = ROOT / "deploy"
SITE = "helpline.test"  # Chromium is told it is 127.0.0.1 (--host-resolver-rules)
INSTALL_DIR, STATE_DIR = "/opt/helpline", "/var/lib/helpline"  # the unit's folders, as docs/deploy.md names them
CLIENT_KEYS = ("remote_ip", "remote_port", "client_ip", "remote_addr", "remote", "client")


def read_env_file(path: Path) -> dict[str, str]:
    """A systemd EnvironmentFile: KEY=VALUE lines, comments, optional double quotes."""
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().removeprefix('"').removesuffix('"')
    return values


def unit_settings(path: Path) -> dict[str, str]:
    return {k: v for k, _, v in (line.partition("=") for line in path.read_text(encoding="utf-8").splitlines()
                                 if "=" in line and not line.startswith("#"))}


def unit_command(port: int) -> list[str]:
    """deploy/helpline@.service's ExecStart for instance ``port``, with the install folder mapped to
    this checkout's virtual environment."""
    unit = unit_settings(DEPLOY / "helpline@.service")
    assert unit["WorkingDirectory"] == INSTALL_DIR and unit["EnvironmentFile"] == "/etc/helpline/helpline.env"
    program, *args = unit["ExecStart"].replace("%i", str(port)).split()
    assert program == f"{INSTALL_DIR}/.venv/bin/helpline", program
    local = Path(sys.executable).parent / "helpline"
    assert local.exists(), f"{local} is missing: install the project (make deps)"
    return [str(local), *args]


def app_env(stack: Stack, origin: str, metrics_token: str) -> dict[str, str]:
    """deploy/helpline.env with this test's database, Redis prefix, origin and folders."""
    values = read_env_file(DEPLOY / "helpline.env")
    values = {k: v.replace(STATE_DIR, str(stack.data_dir)) for k, v in values.items()}
    values.update({"HELPLINE_DATABASE_URL": stack.database_url, "HELPLINE_REDIS_URL": stack.redis_url,
                   "HELPLINE_REDIS_PREFIX": stack.redis_prefix, "HELPLINE_PUBLIC_ORIGIN": origin,
                   "HELPLINE_METRICS_TOKEN": metrics_token})
    return {**{k: v for k, v in os.environ.items() if not k.startswith("HELPLINE_")}, **values}


@dataclass
class Layout:
    stack: Stack
    folder: Path
    https_port: int
    servers: list[ServerProcess] = field(default_factory=list)
    caddy: subprocess.Popen[bytes] | None = None
    admin: str = ""

    @property
    def origin(self) -> str:
        return f"https://{SITE}:{self.https_port}"

    @property
    def url(self) -> str:  # what tests/browser/console_signin.py reads of a server
        return self.origin

    @property
    def logs(self) -> Path:
        return self.folder / "log"

    @property
    def root_certificate(self) -> Path:
        return self.folder / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"

    def start_caddy(self, timeout: float = 20) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        self.admin = f"127.0.0.1:{free_port()}"
        values = read_env_file(DEPLOY / "caddy.env")
        values.update({"CADDY_SITE": SITE, "CADDY_TLS": "internal", "CADDY_HTTPS_PORT": str(self.https_port),
                       "CADDY_HTTP_PORT": str(free_port()), "CADDY_ADMIN": self.admin,
                       "CADDY_LOG_DIR": str(self.logs),
                       "CADDY_UPSTREAMS": " ".join(f"127.0.0.1:{s.port}" for s in self.servers)})
        env = {**os.environ, **values, "XDG_DATA_HOME": str(self.folder / "data"),
               "XDG_CONFIG_HOME": str(self.folder / "config"), "HOME": str(self.folder)}
        caddy = shutil.which("caddy")
        assert caddy, "Caddy is required: apt-get install caddy (make deploy-check does it)"
        with (self.folder / "caddy.out").open("ab") as out:
            self.caddy = subprocess.Popen(  # noqa: S603 - Debian's caddy with our Caddyfile
                [caddy, "run", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
                env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.caddy.poll() is None, (self.folder / "caddy.out").read_text() + self.caddy_log()
            try:
                if self.root_certificate.exists() and self.request("/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("Caddy did not answer:\n" + self.caddy_log())

    def stop_caddy(self) -> None:
        if self.caddy is not None and self.caddy.poll() is None:
            self.caddy.terminate()
            try:
                self.caddy.wait(10)
            except subprocess.TimeoutExpired:
                self.caddy.kill()
                self.caddy.wait()

    def caddy_log(self) -> str:
        path = self.logs / "caddy.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def request(self, path: str, host: str | None = None, headers: dict[str, str] | None = None) -> tuple[int, str]:
        """A GET through the proxy over TLS (SNI and certificate checked against Caddy's own root),
        with the Host header a browser would send unless ``host`` says another."""
        context = ssl.create_default_context(cafile=str(self.root_certificate))
        lines = [f"GET {path} HTTP/1.1", f"Host: {host or f'{SITE}:{self.https_port}'}", "Connection: close",
                 *(f"{k}: {v}" for k, v in (headers or {}).items())]
        with socket.create_connection(("127.0.0.1", self.https_port), timeout=5) as raw, \
                context.wrap_socket(raw, server_hostname=SITE) as tls:
            tls.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
            answer = b""
            while chunk := tls.recv(65536):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        return int(head.split()[1]), body.decode("utf-8", errors="replace")


def log_entries(path: Path) -> Iterator[dict[str, Any]]:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            yield json.loads(line)


def client_keys(entry: Any) -> list[str]:
    """Every key anywhere in a log entry that would name a client's address."""
    if isinstance(entry, dict):
        return [k for k in entry if k in CLIENT_KEYS] + [k for v in entry.values() for k in client_keys(v)]
    if isinstance(entry, list):
        return [k for v in entry for k in client_keys(v)]
    return []
