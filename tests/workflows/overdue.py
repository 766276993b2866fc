"""The library card with a review due in 3 business days, escalating the case when overdue:
its priority goes up and the librarians get the ``escalation`` notice.

Shared by the fault-injection tests and the end-to-end test against a real Celery worker.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from django.contrib.auth.models import AnonymousUser

from tests.conftest import DEFINITIONS
from workflows import programs, services
from workflows.models import Case, Program

ANSWERS = json.loads((DEFINITIONS / "library-card" / "examples" / "valid.json").read_text())
ESCALATION_SUBJECTS = {"en": "A library card review is overdue", "zh-Hans": "借书证审核已逾期"}


def publish_library_card_with_a_due_date(folder: Path) -> Program:
    """Copy the library card into ``folder``, give its review a due date and an escalation, publish it."""
    shutil.copytree(DEFINITIONS / "library-card", folder)
    (folder / "notices").mkdir(exist_ok=True)
    workflow = folder / "workflow.yaml"
    text = workflow.read_text()
    text = text.replace(
        "    role: librarian\n", "    role: librarian\n    due: 3 business days\n    on overdue: hurry\n", 1
    )
    workflow.write_text("escalations:\n  hurry: {notify: [librarian], raise priority: urgent}\n\n" + text)
    for language, subject in ESCALATION_SUBJECTS.items():
        notice = "# " + subject + "\n\n{{ reference }}: {{ link }}\n"
        (folder / "notices" / f"escalation.{language}.md").write_text(notice)
    services.definition_publish(files=programs.read_folder(folder), folder=str(folder))
    return Program.objects.get(slug="library-card")


def submit(program: Program) -> Case:
    return services.case_submit(program=program, data=dict(ANSWERS), user=AnonymousUser())
