"""State machines shared by conversations and referrals: a table of allowed steps, and a
precise refusal for anything else (the shape of Starlette's WebSocket state handling)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TypeVar

E = TypeVar("E", bound=enum.StrEnum)


class IllegalTransition(Exception):
    """A change the lifecycle does not allow; the message names the thing and both states."""

    def __init__(self, noun: str, current: enum.StrEnum, target: enum.StrEnum) -> None:
        super().__init__(f"A {noun} that is {current.value} cannot become {target.value}.")
        self.current = current
        self.target = target


def check_transition(table: Mapping[E, frozenset[E]], noun: str, current: E, target: E) -> E:
    """Returns ``target`` if the table allows the step from ``current``, else raises."""
    if target not in table[current]:
        raise IllegalTransition(noun, current, target)
    return target
