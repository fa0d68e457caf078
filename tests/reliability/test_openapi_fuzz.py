"""Every HTTP route is in /openapi.json, and schemathesis finds no server error and no answer outside it.

schemathesis runs its command line against a real `helpline serve`: once with no session (the
public, child-facing and report routes; staff routes must answer 401) and once as a signed-in
admin with the CSRF token (every staff route the admin may call, and the refusals of the others).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from chat.client import StaffClient
from helpline.app import _routes
from helpline.openapi import document
from tests.support import ServerProcess, Stack, add_user

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
# Signing out or changing the password would end the session the run is using.
KEEP_SESSION = r"/console/api/(logout|logout-everywhere|password|keys)$"


def schemathesis(server: ServerProcess, report: Path, *headers: str, exclude: str | None = None) -> str:
    command = [str(Path(sys.executable).with_name("schemathesis")), "run", server.url + "/openapi.json",
               "--checks", CHECKS, "--max-examples", "10", "--workers", "1", "--seed", "20261125",
               "--generation-allow-x00", "true", "--request-timeout", "20", "--suppress-health-check", "all",
               "--report", "junit", "--report-junit-path", str(report), "--no-color"]
    for header in headers:
        command += ["--header", header]
    if exclude:
        command += ["--exclude-path-regex", exclude]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600)  # noqa: S603
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    return run.stdout


def test_the_document_lists_every_http_route(stack: Stack, server: ServerProcess) -> None:
    served = httpx.get(server.url + "/openapi.json").json()
    assert set(served["paths"]) == set(document(_routes())["paths"])
    paths = served["paths"]
    assert "/console/api/admin/staff" in paths and paths["/console/api/admin/staff"]["post"]["x-helpline-action"]
    assert "/report/api/reports" in paths and "/healthz" in paths and "/openapi.json" in paths
    # Every GET page and API without parameters sends the security headers (the CSP in full).
    for path, operations in paths.items():
        if "get" in operations and "{" not in path:
            answer = httpx.get(server.url + path)
            assert answer.status_code < 500, path
            assert "frame-ancestors 'none'" in answer.headers.get("content-security-policy", ""), path
            assert answer.headers.get("referrer-policy") == "no-referrer", path


@pytest.mark.slow
def test_schemathesis_public_routes(stack: Stack, server: ServerProcess, tmp_path: Path) -> None:
    out = schemathesis(server, tmp_path / "public.xml")
    assert "/report/api/reports" in out or "passed" in out.lower()
    assert "Traceback" not in server.log()


@pytest.mark.slow
async def test_schemathesis_as_a_signed_in_admin(stack: Stack, server: ServerProcess, tmp_path: Path) -> None:
    password = add_user(stack, "root", "admin")
    admin = StaffClient(server.url, "root", password)
    await admin.sign_in()
    cookie = "; ".join(f"{k}={v}" for k, v in admin.cookies.items())
    session = ["Cookie: " + cookie, "x-csrf-token: " + str(admin.csrf), "Origin: " + server.url]
    schemathesis(server, tmp_path / "admin.xml", *session, exclude=KEEP_SESSION)
    # The session survived the run, so the staff routes were really exercised signed in.
    async with httpx.AsyncClient(base_url=server.url, headers={"cookie": cookie}) as http:
        assert (await http.get("/console/api/me")).status_code == 200
    assert "Traceback" not in server.log()
