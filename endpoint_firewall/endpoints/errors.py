"""Located errors: every problem in an input file is reported as ``FILE:LINE: field: message``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


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
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def report(self) -> list[str]:
        return [str(p) for p in self.problems]
