"""A plural rule as data for the page (ADR 0039).

Babel writes CLDR's rule as a gettext C expression ("(n % 10 == 1 && n % 100 != 11) ? 0 : …"). Our CSP
forbids eval and new Function, so the page cannot run that text; it gets the expression parsed into
nested lists instead — `"n"`, a whole number, or `[operator, operand, …]` — and a dozen lines of
helpline/static/js/plural.js evaluate them. Operators: ?: || && == != < <= > >= % !.
"""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(r"\s*(\d+|n|&&|\|\||[=!<>]=|[()?:!%<>])")
_LEVELS = ({"||"}, {"&&"}, {"==", "!="}, {"<", "<=", ">", ">="}, {"%"})

Node = Any  # "n" | int | list


class PluralRuleError(ValueError):
    pass


def _tokens(expr: str) -> list[str]:
    found: list[str] = []
    at = 0
    while at < len(expr.rstrip()):
        match = _TOKEN.match(expr, at)
        if not match:
            raise PluralRuleError(f"cannot read the plural rule at {expr[at:]!r}")
        found.append(match.group(1))
        at = match.end()
    return found


def parse(expr: str) -> Node:
    """The expression as nested lists: "n % 10 == 1 ? 0 : 1" → ["?", ["==", ["%", "n", 10], 1], 0, 1]."""
    tokens = _tokens(expr)
    pos = 0

    def take(expected: str | None = None) -> str:
        nonlocal pos
        if pos >= len(tokens) or (expected and tokens[pos] != expected):
            raise PluralRuleError(f"plural rule {expr!r}: expected {expected or 'more'}")
        pos += 1
        return tokens[pos - 1]

    def unary() -> Node:
        symbol = take()
        if symbol == "(":
            inner = ternary()
            take(")")
            return inner
        if symbol == "!":
            return ["!", unary()]
        if symbol == "n":
            return "n"
        if symbol.isdigit():
            return int(symbol)
        raise PluralRuleError(f"plural rule {expr!r}: unexpected {symbol!r}")

    def binary(level: int) -> Node:
        if level == len(_LEVELS):
            return unary()
        left = binary(level + 1)
        while pos < len(tokens) and tokens[pos] in _LEVELS[level]:
            left = [take(), left, binary(level + 1)]
        return left

    def ternary() -> Node:
        test = binary(0)
        if pos < len(tokens) and tokens[pos] == "?":
            take()
            yes = ternary()
            take(":")
            return ["?", test, yes, ternary()]
        return test

    tree = ternary()
    if pos != len(tokens):
        raise PluralRuleError(f"plural rule {expr!r}: unexpected {tokens[pos]!r}")
    return tree


def evaluate(node: Node, n: int) -> int:
    """What plural.js computes, in Python (the tests compare both with gettext)."""
    if node == "n":
        return n
    if isinstance(node, int):
        return node
    op, *args = node
    if op == "?":
        return evaluate(args[1] if evaluate(args[0], n) else args[2], n)
    if op == "!":
        return int(not evaluate(args[0], n))
    a, b = evaluate(args[0], n), evaluate(args[1], n)
    results = {"||": bool(a or b), "&&": bool(a and b), "==": a == b, "!=": a != b, "<": a < b, "<=": a <= b,
               ">": a > b, ">=": a >= b, "%": a % b if b else 0}
    return int(results[op])
