"""The redis+sentinel:// form of HELPLINE_REDIS_URL: what it means, and a clear refusal of what it cannot mean."""

from __future__ import annotations

import pytest

from helpline.sentinel_url import SentinelURL, parse_sentinel_url
from helpline.settings import SettingsError, load_settings


def test_hosts_service_db_and_passwords() -> None:
    assert parse_sentinel_url("redis+sentinel://10.0.0.1:26379,[::1]:26380,s3.example:26379/helpline") == \
        SentinelURL((("10.0.0.1", 26379), ("::1", 26380), ("s3.example", 26379)), "helpline")
    assert parse_sentinel_url("redis+sentinel://:p%40ss@h:26379/main/2?sentinel_password=s") == \
        SentinelURL((("h", 26379),), "main", 2, None, "p@ss", "s")
    assert parse_sentinel_url("redis+sentinel://app:pw@h:26379/main").username == "app"


@pytest.mark.parametrize(("url", "says"), [
    ("redis+sentinel://h/main", "host:port"),
    ("redis+sentinel://h:26379", "/service"),
    ("redis+sentinel://h:26379/main/x", "/service"),
    ("redis+sentinel://h:99999/main", "host:port"),
    ("redis+sentinel://h:26379/main?db=1", "sentinel_password"),
])
def test_a_bad_url_is_refused_at_start_naming_the_problem(url: str, says: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({"HELPLINE_REDIS_URL": url}, dotenv=None)
    assert "HELPLINE_REDIS_URL" in str(refused.value) and says in str(refused.value)


def test_the_database_url_takes_only_the_transaction_pooler() -> None:
    ok = "postgresql+asyncpg://u@h:6432/helpline?pooler=transaction"
    assert load_settings({"HELPLINE_DATABASE_URL": ok}, dotenv=None).database_url == ok
    with pytest.raises(SettingsError, match="pooler"):
        load_settings({"HELPLINE_DATABASE_URL": "postgresql+asyncpg://u@h:6432/helpline?pooler=session"},
                      dotenv=None)
