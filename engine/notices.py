"""Notice texts: the subject line and the placeholders a notice may hold.

A notice is a Markdown file, ``notices/<name>.<language>.md``. Its first line is the subject,
written as a heading (``# Your library card is ready``). Placeholders in double braces are
filled in when the notice is sent, from a closed list of names: nothing in a notice is ever
evaluated, formatted or looked up beyond these names. The checker (``engine.checks``) uses
``placeholders`` to refuse unknown names; the sender fills them with ``fill``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

FIXED_PLACEHOLDERS = ("reference", "program", "outcome", "link")
"""The case's reference, the program's title, the case's outcome, the applicant's case page."""

ANSWERS_PREFIX = "answers."
"""``{{ answers.<path> }}``: one of the applicant's answers, by its dotted path in the form."""

CASE_PREFIX = "case."
"""``{{ case.<path> }}``: a value the workflow keeps on the case: one it computed (a premium, a
fee), a decision table's output, what a caseworker recorded on a task form, a deadline."""

_BRACES = re.compile(r"\{\{(.*?)\}\}")
_NAME = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*$")


@dataclass(frozen=True)
class Placeholder:
    """One ``{{ ... }}`` in a notice, where it was written (1-based line and column)."""

    written: str  # exactly as in the text, braces included
    name: str  # "reference", "answers.address.city"; "" when the braces hold no name
    line: int
    col: int

    @property
    def answer(self) -> str | None:
        """The answer path of ``{{ answers.<path> }}``, else None."""
        return self.name.removeprefix(ANSWERS_PREFIX) if self.name.startswith(ANSWERS_PREFIX) else None

    @property
    def case_value(self) -> str | None:
        """The data path of ``{{ case.<path> }}``, else None."""
        return self.name.removeprefix(CASE_PREFIX) if self.name.startswith(CASE_PREFIX) else None

    @property
    def known(self) -> bool:
        """A fixed name, or ``answers.``/``case.`` followed by a path (whether the program has it is
        checked apart)."""
        return self.name in FIXED_PLACEHOLDERS or bool(self.answer) or bool(self.case_value)


def placeholders(text: str) -> Iterator[Placeholder]:
    """Every ``{{ ... }}`` in ``text``, in order."""
    for line_number, line in enumerate(text.splitlines(), start=1):
        for match in _BRACES.finditer(line):
            name = _NAME.match(match.group(1))
            yield Placeholder(match.group(0), name.group(1) if name else "", line_number, match.start() + 1)


def subject(text: str) -> str | None:
    """The subject: the first line that is not blank, when it is a ``# heading``; else None."""
    for line in text.lstrip("\ufeff").splitlines():
        if not line.strip():
            continue
        if line.startswith("# ") and line[2:].strip():
            return line[2:].strip()
        return None
    return None


def subject_line(text: str) -> int:
    """The 1-based line the subject is (or should be) on: the first line that is not blank."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            return number
    return 1


def fill(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each placeholder named in ``values`` replaced by its value, as it is.

    Values are inserted as text, never read again: a value holding ``{{ link }}`` stays that text.
    A placeholder not in ``values`` is left as written (the checker refuses unknown names).
    """

    def replace(match: re.Match[str]) -> str:
        name = _NAME.match(match.group(1))
        if name is None or name.group(1) not in values:
            return match.group(0)
        return values[name.group(1)]

    return _BRACES.sub(replace, text)
