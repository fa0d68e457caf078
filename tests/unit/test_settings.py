"""Settings: defaults load, bad values are named, secrets do not print, all are documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpline.settings import SETTINGS, SettingsError, load_settings
from tests.support import ROOT


def test_defaults_load() -> None:
    settings = load_settings({}, dotenv=None)
    assert settings.uses_sqlite and settings.port == 8000
    # Hours and time zone come from the helpline pack (packs/al) unless the environment sets them.
    assert settings.opening_hours is None and str(settings.timezone) == "Europe/Tirane"
    assert load_settings({"HELPLINE_OPENING_HOURS": "08:00-20:00", "HELPLINE_TIMEZONE": "Europe/Belgrade"},
                         dotenv=None).values["HELPLINE_OPENING_HOURS"] == (8 * 60, 20 * 60)


@pytest.mark.parametrize("name,value", [
    ("HELPLINE_PORT", "eighty"), ("HELPLINE_PORT", "-1"), ("HELPLINE_DATABASE_URL", "mysql://x"),
    ("HELPLINE_REDIS_URL", "http://redis"), ("HELPLINE_OPENING_HOURS", "8-22"),
    ("HELPLINE_OPENING_HOURS", "08:00-25:00"), ("HELPLINE_TIMEZONE", "Mars/Olympus"),
    ("HELPLINE_COOKIE_SECURE", "maybe"), ("HELPLINE_LOG_LEVEL", "LOUD"),
])
def test_a_bad_value_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({name: value}, dotenv=None)


def test_unknown_helpline_variables_are_refused() -> None:
    with pytest.raises(SettingsError, match="HELPLINE_DATABSE_URL is not a Helpline setting"):
        load_settings({"HELPLINE_DATABSE_URL": "sqlite+aiosqlite:///x.db"}, dotenv=None)


def test_dotenv_is_read_after_the_environment(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("HELPLINE_PORT=9000\nHELPLINE_HOST=0.0.0.0\n")
    settings = load_settings({"HELPLINE_PORT": "9100"}, dotenv=dotenv)
    assert settings.port == 9100 and settings.host == "0.0.0.0"


def test_secrets_do_not_print() -> None:
    settings = load_settings({"HELPLINE_DATABASE_URL": "postgresql+asyncpg://u:hunter2@db/x"}, dotenv=None)
    assert "hunter2" not in repr(settings)


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert [s.name for s in SETTINGS if f"`{s.name}`" not in readme] == []
