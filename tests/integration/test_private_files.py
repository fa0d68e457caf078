"""Everything the service writes is readable by its own user only (issue 17).

A fresh installation is made by the real `helpline setup` (from a shell whose umask is the usual
022), then served; a child and a counsellor chat, and a referral makes a notice in the outbox.
Every file under the data folder (database, WAL, keys, secret, outbox) is then mode 0600 and
every folder 0700, while the server runs and after it stops. A file an older release left
readable by others is tightened at the next start.
"""

from __future__ import annotations

import dataclasses
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from helpline.keys import load_public_key
from tests.integration.referral_support import cli, eventually, member, refer
from tests.integration.test_chat_e2e import open_chat
from tests.support import ROOT, ServerProcess, Stack, add_user


def open_to_others(folder: Path) -> Iterator[str]:
    """Every path under ``folder`` (itself included) that its group or others may use; the test
    harness's own server logs, which the test process writes there, are not the service's."""
    for path in [folder, *folder.rglob("*")]:
        if path.name.startswith("server-") and path.suffix == ".log":
            continue
        if stat.S_IMODE(path.lstat().st_mode) & 0o077:
            yield f"{path.relative_to(folder.parent)} {oct(stat.S_IMODE(path.lstat().st_mode))}"


async def test_the_database_wal_keys_and_outbox_are_the_services_own(stack: Stack, tmp_path: Path) -> None:
    data = tmp_path / "fresh" / "var"
    env = {**stack.env, "HELPLINE_DATA_DIR": str(data), "HELPLINE_ORG_KEY_FILE": str(data / "org-signing.key"),
           "HELPLINE_ORG_PUBLIC_KEY_FILE": str(data / "org-public.key"),
           "HELPLINE_SECRET_FILE": str(data / "server-secret.key"), "HELPLINE_WORKER_SECONDS": "1"}
    database_url = f"sqlite+aiosqlite:///{data}/helpline.db" if stack.sqlite_path else stack.database_url
    env["HELPLINE_DATABASE_URL"] = database_url
    old_umask = os.umask(0o022)  # the usual shell: without the fix every file is 0644
    try:
        subprocess.run([sys.executable, "-m", "helpline.cli", "setup"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
    finally:
        os.umask(old_umask)
    fresh = dataclasses.replace(stack, data_dir=data, env=env, database_url=database_url, servers=[],
                                org_public_key=load_public_key(data / "org-public.key"))
    assert list(open_to_others(data)) == []

    # An older release's leftovers: readable by others until the next start tightens them.
    (data / "outbox").mkdir(mode=0o755)
    (data / "outbox" / "00000000-old.eml").write_text("old notice")
    for path in (data / "outbox", data / "outbox" / "00000000-old.eml", data):
        path.chmod(0o755 if path.is_dir() else 0o644)

    server = ServerProcess(fresh).start()
    stack.servers.append(server)
    assert list(open_to_others(data)) == []

    password = add_user(fresh, "ana")
    child, staff, conv = await open_chat(server, fresh, password)
    await child.say("a word that makes the WAL grow")
    await staff.say(conv, "and an answer")
    cli(fresh, "directory", "load")
    counsellor = await member(fresh, "besa", "counsellor")
    await member(fresh, "drita", "officer", agency="cpu-shkoder", email="drita@shkoder.example")
    await refer(server.url, counsellor, fresh)
    new_notices = await eventually(lambda: [p for p in (data / "outbox").glob("*.eml") if "old" not in p.name])
    assert new_notices
    if stack.sqlite_path:
        assert (data / "helpline.db-wal").exists()
    assert list(open_to_others(data)) == []
    await child.close()
    await staff.close()
    server.stop()
    assert list(open_to_others(data)) == []
