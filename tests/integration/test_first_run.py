"""`helpline setup` on an empty folder, and the out-of-hours answer."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.chat_client import ChildClient, FrameError
from tests.support import ROOT, ServerProcess, Stack


def test_setup_creates_keys_database_and_a_first_admin_once(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPLINE_")}
    run = [sys.executable, "-m", "helpline.cli", "setup"]
    first = subprocess.run(run, cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                           check=True)
    assert "username: admin" in first.stdout and "http://127.0.0.1:8000/console" in first.stdout
    password = first.stdout.split("password: ")[1].split()[0]
    assert len(password) >= 12
    assert "authenticator app" in first.stdout  # the first sign-in enrols the second factor
    assert (tmp_path / "var" / "helpline.db").exists() and (tmp_path / "var" / "org-signing.key").exists()
    assert oct((tmp_path / "var" / "org-signing.key").stat().st_mode)[-3:] == "600"
    again = subprocess.run(run, cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                           check=True)
    assert "password:" not in again.stdout  # shown once only


def test_bad_setting_stops_the_start_with_a_clear_message(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPLINE_")}
    env.update({"HELPLINE_PORT": "eighty", "PYTHONPATH": str(ROOT)})
    result = subprocess.run([sys.executable, "-m", "helpline.cli", "serve"], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "HELPLINE_PORT" in result.stderr and "Traceback" not in result.stderr


@pytest.fixture
def closed_hours() -> str:
    now = dt.datetime.now(ZoneInfo("Europe/Tirane"))
    start = (now + dt.timedelta(hours=2)).replace(minute=0)
    end = (now + dt.timedelta(hours=3)).replace(minute=0)
    return f"{start:%H:%M}-{end:%H:%M}" if start.hour < end.hour else "03:00-04:00"


async def test_out_of_hours_the_page_says_when_and_start_is_refused(
        stack: Stack, start_server, closed_hours: str) -> None:  # type: ignore[no-untyped-def]
    server: ServerProcess = start_server(HELPLINE_OPENING_HOURS=closed_hours)
    page = httpx.get(server.url + "/").text
    assert "116 111" in page and "112" in page and "129" in page
    assert closed_hours.split("-")[0] in page
    child = ChildClient(server.url, stack.org_public_key)
    await child.connect()
    with pytest.raises(FrameError) as refused:
        await child.start({})
    assert refused.value.code == "closed"
    await child.close()
