"""Small field checks for JSON bodies: each takes (name, value) and returns the clean value or raises
Invalid, a whole sentence from the catalog that names the field. Absent optional fields become
their default.

A refusal is one language: `Invalid.sentence(locale)` translates the sentence around the field's
name (the name stays as the code spells it), so an Albanian request never reads "Kërkesa u
refuzua: 'username' is missing." but "Mungon fusha 'username'."."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

from helpline.i18n import N_, locales, translate
from helpline.middleware import MAX_BODY

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


def _described(check: Check, schema: dict[str, Any]) -> Check:
    """Attaches the JSON Schema of what ``check`` accepts, for the OpenAPI document."""
    check.schema = schema  # type: ignore[attr-defined]
    return check


def described(check: Check, schema: dict[str, Any]) -> Check:
    """Says what a check written elsewhere accepts (JSON Schema), for the OpenAPI document."""
    return _described(check, schema)


def schema_of(check: Check) -> dict[str, Any]:
    """What a check accepts as JSON Schema (``{}``, anything, for a check that does not say); a check whose
    options are read at each request says them as they are when the document is made."""
    inner = check.check if isinstance(check, Optional) else check
    found = getattr(inner, "schema", {})
    return dict(found()) if callable(found) else dict(found)


def object_schema(spec: dict[str, Check]) -> dict[str, Any]:
    """The JSON Schema of a body `fields` accepts: its fields, which are required, nothing else."""
    properties = {name: schema_of(check) | ({"nullable": True} if isinstance(check, Optional) else {})
                  for name, check in spec.items()}
    schema: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": properties}
    required = [name for name, check in spec.items() if not isinstance(check, Optional)]
    if required:
        schema["required"] = required
    return schema


def declares(spec: dict[str, Check]) -> Callable[[Any], Any]:
    """Marks an endpoint with the body it reads, so helpline/openapi.py documents it exactly."""
    def mark(endpoint: Any) -> Any:
        endpoint.helpline_body = spec
        return endpoint
    return mark


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


def string(max_len: int, min_len: int = 1, *, multiline: bool = False, pattern: str | None = None,
           message: str | None = None) -> Check:
    """A string of ``min_len`` to ``max_len`` characters; with ``pattern`` (anchored, `^...$`, and
    written so that Python and JavaScript read it alike) also of that form, else refused with
    ``message`` (a catalog msgid without parameters) or a general sentence naming the field."""
    form = re.compile(pattern) if pattern else None

    def check(name: str, value: Any) -> str:
        if not isinstance(value, str) or not min_len <= len(value) <= max_len:
            raise Invalid(N_("'%(name)s' must be a string of %(low)d to %(high)d characters."), name=name,
                          low=min_len, high=max_len)
        text: str = clean_text(name, value)
        if not multiline and "\n" in text:
            raise Invalid(N_("'%(name)s' must be one line."), name=name)
        if form is not None and not form.search(text):
            raise Invalid(message or GENERAL, name=name)
        return text
    # No control character but the line break (multi-line text) and the tab: what clean_text keeps.
    # A pattern of the field's own replaces it: it names the characters allowed, none of them a control.
    allowed = pattern or ("^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f]*$" if multiline else
                          "^[^\\u0000-\\u0008\\u000a-\\u001f\\u007f-\\u009f]*$")
    # A body is at most MAX_BODY bytes (helpline/middleware.py): the document promises no string more than
    # half of it, so a string at its documented length always fits in a body.
    return _described(check, {"type": "string", "minLength": min_len, "maxLength": min(max_len, MAX_BODY // 2),
                              "pattern": allowed})


# Canonical base64url without padding (helpline.crypto.b64u_decode): the last character of a length
# that is not a whole number of 3-byte groups carries no stray low bits.
_LAST = {0: "A-Za-z0-9_-", 1: "AQgw", 2: "AEIMQUYcgkosw048"}


def b64u(size: int, message: str) -> Check:
    """A value of exactly ``size`` bytes in canonical base64url, else refused with ``message``."""
    length = -(-size * 4 // 3)
    pattern = f"^[A-Za-z0-9_-]{{{length - 1}}}[{_LAST[size % 3]}]$"
    form = re.compile(pattern)

    def check(name: str, value: Any) -> str:
        # One sentence for every wrong value (length, alphabet, stray bits): what the value must be.
        if not isinstance(value, str) or not form.fullmatch(value):
            raise Invalid(message, name=name)
        return value
    return _described(check, {"type": "string", "minLength": length, "maxLength": length, "pattern": pattern})


def integer(low: int, high: int) -> Check:
    def check(name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise Invalid(N_("'%(name)s' must be a whole number from %(low)d to %(high)d."), name=name, low=low,
                          high=high)
        return value
    return _described(check, {"type": "integer", "minimum": low, "maximum": high})


def boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid(N_("'%(name)s' must be true or false."), name=name)
    return value


def choice(*options: str) -> Check:
    def check(name: str, value: Any) -> str:
        if value not in options:
            raise Invalid(N_("'%(name)s' must be one of: %(options)s."), name=name, options=", ".join(options))
        return str(value)
    return _described(check, {"type": "string", "enum": list(options)})


def language() -> Check:
    """One of the helpline's languages (helpline.i18n.locales(), read at each request: the pack sets them)."""
    def check(name: str, value: Any) -> str:
        if value not in locales():
            raise Invalid(N_("'%(name)s' must be one of: %(options)s."), name=name, options=", ".join(locales()))
        return str(value)
    check.schema = lambda: {"type": "string", "enum": list(locales())}  # type: ignore[attr-defined]
    return check


def list_of(item: Check, max_items: int) -> Check:
    def check(name: str, value: Any) -> list[Any]:
        if not isinstance(value, list) or len(value) > max_items:
            raise Invalid(N_("'%(name)s' must be a list of at most %(count)d items."), name=name, count=max_items)
        return [item(f"{name}[{i}]", v) for i, v in enumerate(value)]
    return _described(check, {"type": "array", "maxItems": max_items, "items": schema_of(item)})


def mapping(key: Check, item: Check, max_items: int) -> Check:
    def check(name: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict) or len(value) > max_items:
            raise Invalid(N_("'%(name)s' must be an object of at most %(count)d entries."), name=name,
                          count=max_items)
        return {key(f"{name} key", k): item(f"{name}.{k}", v) for k, v in value.items()}
    names = schema_of(key).get("enum")
    if names:  # keys from a fixed list: each named (OpenAPI 3.0 has no propertyNames)
        return _described(check, {"type": "object", "maxProperties": max_items, "additionalProperties": False,
                                  "properties": {name: schema_of(item) for name in names}})
    return _described(check, {"type": "object", "maxProperties": max_items, "additionalProperties": schema_of(item)})


_described(boolean, {"type": "boolean"})


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
