"""bench/validate: validating a submission against its form schema, vs json.loads of it.

Run: .venv/bin/python -m bench.validate
Measures the Healthy Families form when definitions/healthy-families/ exists (pilot programs
issue), otherwise the library-card form, each with the program's own examples: the valid
one and the invalid one (every error reported). The ratio shows what validation costs next
to parsing the same body.
"""

from __future__ import annotations

import json
from pathlib import Path

import forms
from bench._timing import compare

DEFINITIONS = Path(__file__).resolve().parents[1] / "definitions"
PROGRAMS = ("healthy-families", "library-card")


def _program() -> Path:
    return next(DEFINITIONS / name for name in PROGRAMS if (DEFINITIONS / name / "form.schema.json").is_file())


def main() -> None:
    folder = _program()
    schema = json.loads((folder / "form.schema.json").read_text())
    examples = folder / "examples"
    body = (examples / "valid.json").read_text()
    bad_body = (examples / "invalid.json").read_text()
    data, bad = json.loads(body), json.loads(bad_body)
    form = forms.FormValidator(schema)
    assert form.validate(data) == [], "the valid example must validate"
    errors = len(form.validate(bad))
    assert errors > 1, "the invalid example must report several errors at once"
    valid, parse = compare(lambda: form.validate(data), lambda: json.loads(body))
    invalid, parse_bad = compare(lambda: form.validate(bad), lambda: json.loads(bad_body), rounds=3)
    print(f"form: {folder.name} ({len(body):,} bytes valid, {len(bad_body):,} bytes invalid)")
    print(
        f"valid:   {valid:,.0f}/s = {valid / parse:.2f}x json.loads of the same payload ({parse:,.0f}/s);"
        " target >= 0.5x"
    )
    print(f"invalid: {invalid:,.0f}/s = {invalid / parse_bad:.2f}x json.loads ({errors} errors reported each time)")


if __name__ == "__main__":
    main()
