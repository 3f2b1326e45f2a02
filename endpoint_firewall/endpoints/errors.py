"""Located errors: every problem in an input file is reported as ``FILE:LINE: field: message``, or as
``FILE: path: message`` where a path into the data finds it better than a line (``[3].tcpPorts`` of a
machine-generated JSON list, whose lines mean nothing to its reader)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_NUMBER = re.compile(r"(\d+)")


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None  # None: ``field`` is a path into the data that locates the problem on its own
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.field}: {self.message}"

    def sort_key(self) -> tuple:
        """File, line, then field with its numbers compared as numbers (``[2].id`` before ``[10].id``)."""
        field = tuple(int(p) if i % 2 else p for i, p in enumerate(_NUMBER.split(self.field)))
        return (self.file, -1 if self.line is None else self.line, field, self.message)


class EpfwError(Exception):
    """The base of every error ``epfw`` reports without a traceback (exit 1): the located problems, one
    ``FILE:LINE: field: message`` line each, or else the message on one line (``epfw: ...``)."""

    problems: Sequence[Problem] = ()

    def report(self) -> list[str]:
        """The lines to print on stderr."""
        return [str(p) for p in self.problems] if self.problems else [f"epfw: {self}"]


class CatalogueError(EpfwError):
    """One or more located problems; nothing was loaded."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=Problem.sort_key)
        super().__init__("\n".join(str(p) for p in self.problems))

    def report(self) -> list[str]:
        return [str(p) for p in self.problems]
