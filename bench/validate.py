"""bench/validate: validating a submission against its form schema, vs json.loads of it.

Run: .venv/bin/python -m bench.validate
Until the Healthy Families form exists (pilot programs issue), this measures the
library-card form: the ratio shows what validation costs next to parsing the body.
"""

from __future__ import annotations

import json
from pathlib import Path

import forms
from bench._timing import compare

FORM = Path(__file__).resolve().parents[1] / "definitions" / "library-card" / "form.schema.json"


def main() -> None:
    schema = json.loads(FORM.read_text())
    body = json.dumps({"full_name": "Ana Lima", "email": "ana@example.org"})
    bad = {"full_name": "", "email": "nope", "extra": 1}
    data = json.loads(body)
    assert forms.validate(schema, data) == []
    assert len(forms.validate(schema, bad)) == 3, "all errors must be reported"
    form = forms.FormValidator(schema)
    valid, parse = compare(lambda: form.validate(data), lambda: json.loads(body))
    invalid, _ = compare(lambda: form.validate(bad), lambda: json.loads(body), rounds=3)
    print(f"json.loads: {parse:,.0f}/s   valid: {valid:,.0f}/s   invalid (3 errors): {invalid:,.0f}/s")
    print(f"validate: {valid:,.0f}/s ({valid / parse:.2f}x json.loads of the same payload; target >= 0.5x)")


if __name__ == "__main__":
    main()
