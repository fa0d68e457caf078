"""Small field checks for JSON bodies: each takes (name, value) and returns the clean value or raises
Invalid, a whole sentence from the catalog that names the field. Absent optional fields become
their default.

A refusal is one language: `Invalid.sentence(locale)` translates the sentence around the field's
name (the name stays as the code spells it), so an Albanian request never reads "Kërkesa u
refuzua: 'username' is missing." but "Mungon fusha 'username'."."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

from helpline.i18n import N_, translate

Check = Callable[[str, Any], Any]

_ALLOWED_CONTROLS = {"\n", "\t"}


class Invalid(ValueError):
    """A refused value: a catalog sentence (its msgid) and what fills it. ``str()`` is English."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message % params)
        self.message = message
        self.params = params

    def sentence(self, locale: str) -> str:
        """The whole sentence in ``locale``."""
        return translate(locale, self.message) % self.params


def refusal(exc: ValueError, locale: str) -> str:
    """The sentence a 400 answers with: the check's own, or, for a check that raised a bare
    ValueError, a general one in the same language."""
    if isinstance(exc, Invalid):
        return exc.sentence(locale)
    return translate(locale, GENERAL)


GENERAL = N_("A value in this request is not valid; nothing was changed.")


def clean_text(name: str, value: str) -> str:
    """Refuses NUL and other control characters, and lone surrogates (valid JSON escapes, but no
    text: neither database could store them); keeps every letter, mark and emoji as sent."""
    for char in value:
        category = unicodedata.category(char)
        if category == "Cc" and char not in _ALLOWED_CONTROLS:
            raise Invalid(N_("'%(name)s' contains a control character."), name=name)
        if category == "Cs":
            raise Invalid(N_("'%(name)s' contains a broken character (a lone UTF-16 surrogate)."), name=name)
    return value


def string(max_len: int, min_len: int = 1, *, multiline: bool = False) -> Check:
    def check(name: str, value: Any) -> str:
        if not isinstance(value, str) or not min_len <= len(value) <= max_len:
            raise Invalid(N_("'%(name)s' must be a string of %(low)d to %(high)d characters."), name=name,
                          low=min_len, high=max_len)
        text: str = clean_text(name, value)
        if not multiline and "\n" in text:
            raise Invalid(N_("'%(name)s' must be one line."), name=name)
        return text
    return check


def integer(low: int, high: int) -> Check:
    def check(name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise Invalid(N_("'%(name)s' must be a whole number from %(low)d to %(high)d."), name=name, low=low,
                          high=high)
        return value
    return check


def boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid(N_("'%(name)s' must be true or false."), name=name)
    return value


def choice(*options: str) -> Check:
    def check(name: str, value: Any) -> str:
        if value not in options:
            raise Invalid(N_("'%(name)s' must be one of: %(options)s."), name=name, options=", ".join(options))
        return str(value)
    return check


def list_of(item: Check, max_items: int) -> Check:
    def check(name: str, value: Any) -> list[Any]:
        if not isinstance(value, list) or len(value) > max_items:
            raise Invalid(N_("'%(name)s' must be a list of at most %(count)d items."), name=name, count=max_items)
        return [item(f"{name}[{i}]", v) for i, v in enumerate(value)]
    return check


def mapping(key: Check, item: Check, max_items: int) -> Check:
    def check(name: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict) or len(value) > max_items:
            raise Invalid(N_("'%(name)s' must be an object of at most %(count)d entries."), name=name,
                          count=max_items)
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
        raise Invalid(N_("The request must be a JSON object."))
    unknown = sorted(set(data) - set(spec))
    if unknown:
        raise Invalid(N_("There is no field '%(name)s' here."), name=unknown[0][:40])
    clean: dict[str, Any] = {}
    for name, check in spec.items():
        if name not in data:
            if isinstance(check, Optional):
                clean[name] = check.default
                continue
            raise Invalid(N_("The field '%(name)s' is missing."), name=name)
        clean[name] = check(name, data[name])
    return clean
