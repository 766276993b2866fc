"""Author mistakes as data: every problem carries a location and a stable code."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake in a definition file, located as ``path:line:col``.

    ``line`` and ``col`` are 1-based; 0 means "the whole file".
    """

    path: str
    line: int
    col: int
    code: str
    message: str
    severity: str = "error"  # "error" stops publishing; "warning" is reported only

    def __str__(self) -> str:
        label = "warning: " if self.severity == "warning" else ""
        return f"{self.path}:{self.line}:{self.col}: {label}{self.code}: {self.message}"


class DefinitionError(Exception):
    """Raised at the boundary when a definition has problems; carries all of them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))
