"""Pydantic validation errors as located problems (``FILE:LINE: field: message``): the one walk over a
``ValidationError`` that the catalogue loader (``loader.py``) and the stack config (``config/stack_config.py``)
share. Each caller says how a location becomes a line and a field, and how it words a message. The importers
word one refused value with :func:`first_message`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from .errors import Problem

Where = tuple[Any, ...]  # a pydantic error location: keys and list indexes from the validated document's root


def located_problems(
    err: ValidationError,
    filename: str,
    *,
    line: Callable[[Where], int],
    field: Callable[[Where], str],
    message: Callable[[ErrorDetails, Where], str],
    first_per_place: bool = False,
) -> list[Problem]:
    """One problem per error of ``err``, in pydantic's order. An error of type ``located`` (raised by a model's
    validator about a part of its value, ``models.located``) is placed at that part (its ``ctx["at"]``).
    ``first_per_place``: keep only the first problem per line and field (one bad value can fail several union
    branches at the same place)."""
    problems = []
    for item in err.errors(include_url=False):
        loc = tuple(item["loc"])
        if item["type"] == "located":
            loc += tuple(item["ctx"]["at"])
        problems.append(Problem(filename, line(loc), field(loc), message(item, loc)))
    if not first_per_place:
        return problems
    seen: set[tuple[int | None, str]] = set()
    unique = []
    for p in problems:
        if (p.line, p.field) not in seen:
            seen.add((p.line, p.field))
            unique.append(p)
    return unique


def first_message(err: ValidationError) -> str:
    """The message of ``err``'s first error, without pydantic's ``Value error, `` prefix: why one value is refused."""
    return err.errors(include_url=False)[0]["msg"].removeprefix("Value error, ")
