"""Finding and running programs' scenario files (the engine plays them in memory)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import engine
import forms
from engine import scenarios as engine_scenarios
from workflows import programs, wizard


@dataclass
class Outcome:
    label: str
    failures: list[str] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def validate_answers(schema: Mapping[str, Any], data: Any) -> list[str]:
    return [f"{error.pointer or '/'}: {error.message}" for error in forms.validate(schema, data)]


def run_all(folders: list[Path]) -> Iterator[Outcome]:
    for folder in folders:
        files = programs.read_folder(folder)
        all_files = {**files, **_test_material(folder)}
        definition, problems = programs.check(files, folder=str(folder))
        scenario_files = sorted((folder / "scenarios").glob("*.yaml"))
        if definition is None:
            errors = [str(problem) for problem in problems if problem.severity == "error"]
            for path in scenario_files:
                yield Outcome(f"{path}", [f"the program does not load: {errors[0]}", *errors[1:]])
            continue
        form = programs.site_form(definition, files)
        for path in scenario_files:
            yield run_one(definition, path, all_files, form=form)


def run_one(
    definition: engine.Definition, path: Path, files: Mapping[str, str], *, form: wizard.Form | None = None
) -> Outcome:
    try:
        scenario = engine_scenarios.load_scenario(str(path), path.read_text(encoding="utf-8"), files)
    except engine.DefinitionError as error:
        return Outcome(str(path), [str(problem) for problem in error.problems])
    accept = accepting(form) if form is not None else None
    result = engine_scenarios.run_scenario(definition, scenario, validate=validate_answers, accept=accept)
    return Outcome(f"{path}::{scenario.name}", result.failures, result.trace)


def accepting(form: wizard.Form) -> engine_scenarios.Accept:
    """A scenario's answers accepted as the site accepts a submission on the scenario's day:
    hidden answers cleared, computed ones worked out, every rule and check applied."""

    def accept(answers: Mapping[str, Any], today: str) -> tuple[dict[str, Any], list[engine_scenarios.Refusal]]:
        cleaned = form.clean(answers)
        errors = form.errors(cleaned, "en", today=today)
        return cleaned, [(error.pointer, error.code, error.message) for error in errors]

    return accept


def _test_material(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): path.read_text(encoding="utf-8")
        for sub in ("examples", "scenarios")
        for path in sorted((folder / sub).glob("*"))
        if path.is_file()
    }
