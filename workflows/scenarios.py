"""Finding and running programs' scenario files (the engine plays them in memory)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import engine
import forms
from engine import scenarios as engine_scenarios
from workflows import programs


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
        for path in scenario_files:
            yield run_one(definition, path, all_files)


def run_one(definition: engine.Definition, path: Path, files: Mapping[str, str]) -> Outcome:
    try:
        scenario = engine_scenarios.load_scenario(str(path), path.read_text(encoding="utf-8"), files)
    except engine.DefinitionError as error:
        return Outcome(str(path), [str(problem) for problem in error.problems])
    result = engine_scenarios.run_scenario(definition, scenario, validate=validate_answers)
    return Outcome(f"{path}::{scenario.name}", result.failures, result.trace)


def _test_material(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): path.read_text(encoding="utf-8")
        for sub in ("examples", "scenarios")
        for path in sorted((folder / sub).glob("*"))
        if path.is_file()
    }
