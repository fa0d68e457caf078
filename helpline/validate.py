"""Small field checks for JSON bodies: each takes (name, value) and returns the clean value or raises
ValueError with a sentence that names the field. Absent optional fields become their default."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

Check = Callable[[str, Any], Any]

_ALLOWED_CONTROLS = {"\n", "\t"}


def clean_text(name: str, value: str) -> str:
    """Refuses NUL and other control characters, and lone surrogates (valid JSON escapes, but no
    text: neither database could store them); keeps every letter, mark and emoji as sent."""
    for char in value:
        category = unicodedata.category(char)
        if category == "Cc" and char not in _ALLOWED_CONTROLS:
            raise ValueError(f"'{name}' contains a control character")
        if category == "Cs":
            raise ValueError(f"'{name}' contains a broken character (a lone UTF-16 surrogate)")
    return value


def string(max_len: int, min_len: int = 1, *, multiline: bool = False) -> Check:
    def check(name: str, value: Any) -> str:
        if not isinstance(value, str) or not min_len <= len(value) <= max_len:
            raise ValueError(f"'{name}' must be a string of {min_len} to {max_len} characters")
        text: str = clean_text(name, value)
        if not multiline and "\n" in text:
            raise ValueError(f"'{name}' must be one line")
        return text
    return check


def integer(low: int, high: int) -> Check:
    def check(name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"'{name}' must be a whole number from {low} to {high}")
        return value
    return check


def boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"'{name}' must be true or false")
    return value


def choice(*options: str) -> Check:
    def check(name: str, value: Any) -> str:
        if value not in options:
            raise ValueError(f"'{name}' must be one of: {', '.join(options)}")
        return str(value)
    return check


def list_of(item: Check, max_items: int) -> Check:
    def check(name: str, value: Any) -> list[Any]:
        if not isinstance(value, list) or len(value) > max_items:
            raise ValueError(f"'{name}' must be a list of at most {max_items} items")
        return [item(f"{name}[{i}]", v) for i, v in enumerate(value)]
    return check


def mapping(key: Check, item: Check, max_items: int) -> Check:
    def check(name: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict) or len(value) > max_items:
            raise ValueError(f"'{name}' must be an object of at most {max_items} entries")
        return {key(f"{name} key", k): item(f"{name}.{k}", v) for k, v in value.items()}
    return check


class Optional:
    """Marks a field that may be absent or null; it then takes ``default``."""

    def __init__(self, check: Check, default: Any = None) -> None:
        self.check = check
        self.default = default

    def __call__(self, name: str, value: Any) -> Any:
        return self.default if value is None else self.check(name, value)


def fields(data: Any, spec: dict[str, Check]) -> dict[str, Any]:
    """Checks a decoded JSON object against a spec; unknown fields are refused too."""
    if not isinstance(data, dict):
        raise ValueError("the request must be a JSON object")
    unknown = sorted(set(data) - set(spec))
    if unknown:
        raise ValueError(f"unknown field '{unknown[0][:40]}'")
    clean: dict[str, Any] = {}
    for name, check in spec.items():
        if name not in data:
            if isinstance(check, Optional):
                clean[name] = check.default
                continue
            raise ValueError(f"'{name}' is missing")
        clean[name] = check(name, data[name])
    return clean
