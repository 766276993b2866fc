"""civicflow seed-demo — demo users for every role, with generated passwords printed."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from engine.model import HumanStep
from workflows import services
from workflows.models import Case, CitizenAccount, DefinitionVersion, Program, RoleGrant, Submission, Task
from workflows.programs import definition_of
from workflows.roles import STAFF_ROLES

DEMO_CITIZEN_EMAIL = "citizen@example.org"


class Command(BaseCommand):
    help = "Create (or keep) one demo user per role and print how to sign in. Development only."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="where the demo is served")
        parser.add_argument(
            "--no-cases", action="store_true", help="only the logins: no demo cases from the programs' examples"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        logins_file = settings.VAR_DIR / "demo-logins.json"
        logins: dict[str, str] = json.loads(logins_file.read_text()) if logins_file.exists() else {}
        agencies_of_role = self._program_roles()
        wanted = {role: [role] for role in STAFF_ROLES}
        for role in sorted(agencies_of_role):
            wanted.setdefault(role, [role])
        wanted["citizen"] = []
        user_model = get_user_model()
        agencies = sorted(set(Program.objects.filter(current_version__isnull=False).values_list("agency", flat=True)))
        with transaction.atomic():
            for username, roles in wanted.items():
                password = logins.setdefault(username, secrets.token_urlsafe(12))
                user, _ = user_model.objects.get_or_create(
                    username=username, defaults={"email": f"{username}@example.org"}
                )
                user.set_password(password)
                user.is_staff = username in {"agency_admin", "designer"}
                user.is_superuser = username == "agency_admin"
                user.save()
                # Each demo login holds its role where the demo programs use it: a program's role for the
                # agencies whose programs declare it, a cross-program role (supervisor, auditor...) for all.
                where = {
                    role: agencies if role in STAFF_ROLES else agencies_of_role.get(role, agencies) for role in roles
                }
                kept = [(role, agency) for role in roles for agency in where[role]]
                for grant in RoleGrant.objects.filter(user=user):
                    if (grant.role, grant.agency) not in kept or grant.queue:
                        grant.delete()
                for role, agency in kept:
                    RoleGrant.objects.get_or_create(user=user, role=role, agency=agency, queue="")
            # The demo citizen signs in where citizens do, with a confirmed address.
            citizen = user_model.objects.get(username="citizen")
            now = timezone.now()
            CitizenAccount.objects.update_or_create(
                user=citizen, defaults={"email": DEMO_CITIZEN_EMAIL, "verified_at": now, "created_at": now}
            )
        seeded = [] if options["no_cases"] else seed_cases(settings.CIVICFLOW_DEFINITIONS)
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        logins_file.write_text(json.dumps(logins, indent=2))
        logins_file.chmod(0o600)
        url = options["url"]
        self.stdout.write(f"\nCivicFlow demo: {url}/  (staff sign in: {url}/accounts/login/)")
        self.stdout.write("Demo logins (also in var/demo-logins.json):")
        for username in wanted:
            if username != "citizen":
                self.stdout.write(f"  {username:<20} {logins[username]}")
        self.stdout.write(f"Citizen (sign in at {url}/account/sign-in/): {DEMO_CITIZEN_EMAIL}  {logins['citizen']}")
        if seeded:
            self.stdout.write(f"Demo cases ({len(seeded)}, from each program's examples/valid*.json):")
            for line in seeded:
                self.stdout.write(f"  {line}")

    @staticmethod
    def _program_roles() -> dict[str, list[str]]:
        """Each role the published programs declare, with the agencies whose programs declare it."""
        agencies: dict[str, set[str]] = {}
        for version in DefinitionVersion.objects.filter(program__current_version__isnull=False).distinct():
            if version.program.current_version_id == version.pk:
                program = definition_of(version).program
                for role in program.roles:
                    agencies.setdefault(role, set()).add(program.agency)
        return {role: sorted(found) for role, found in agencies.items()}


# ---------------------------------------------------------------------------------------- demo cases

STAGES = ("waiting in the queue", "taken by a caseworker", "first step decided")
"""Each program's valid examples become cases left at these stages in turn, so the inboxes,
the applicant's pages and the case histories all have something to show."""


def seed_cases(definitions: Path) -> list[str]:
    """Submit each published program's ``examples/valid*.json`` once (an idempotency key per example
    makes a rerun find the same cases) and move some of them on; one line per case."""
    lines: list[str] = []
    citizen = get_user_model().objects.get(username="citizen")
    for program in Program.objects.filter(current_version__isnull=False).order_by("slug"):
        if program.current_version is None:  # filtered out above; says so to the type checker
            continue
        folder = definitions / program.slug
        examples = sorted((folder / "examples").glob("valid*.json")) if folder.is_dir() else []
        definition = definition_of(program.current_version)
        for index, example in enumerate(examples):
            key = f"demo:{program.slug}:{example.stem}"
            if Submission.objects.filter(program=program, idempotency_key=key).exists():
                continue  # seeded before: keep it as the demo left it
            answers = json.loads(example.read_text(encoding="utf-8"))
            try:
                if index == 0:  # the demo citizen's own application, on their pages
                    case = services.case_submit(program=program, data=answers, user=citizen, idempotency_key=key)
                else:  # entered by staff for someone at the counter
                    clerk = _demo_user(definition.program.roles[0])
                    case = services.case_submit(
                        program=program,
                        data=answers,
                        user=clerk,
                        channel=Case.Channel.COUNTER,
                        on_behalf_of=example.stem.removeprefix("valid-").replace("-", " ").capitalize(),
                        idempotency_key=key,
                    )
            except services.ServiceError as error:
                lines.append(f"{program.slug}: {example.name} not submitted ({error.message})")
                continue
            stage = _move_on(case, definition, index % len(STAGES))
            lines.append(f"{case.reference:<16} {program.slug:<18} {example.stem:<28} {stage}")
    return lines


def _demo_user(role: str) -> Any:
    return get_user_model().objects.get(username=role)


def _move_on(case: Case, definition: Any, stage: int) -> str:
    """Take (stage 1) or take and decide (stage 2) the case's first open task, as its role's demo login."""
    task = Task.objects.filter(case=case, status=Task.Status.OPEN).order_by("pk").first()
    if task is None or stage == 0:
        return _where(case)
    user = get_user_model().objects.filter(username=task.role).first()
    if user is None:
        return _where(case)
    try:
        services.task_claim(task_id=task.pk, user=user)
        step = definition.step("", task.step) if task.step in definition.steps else None
        outcome = _first_outcome(step, definition)
        if stage == 2 and outcome is not None:
            services.task_complete(task_id=task.pk, user=user, outcome=outcome)
    except services.ServiceError:
        pass  # a demo login that may not do it (four eyes, a queue): the case stays where it got to
    case.refresh_from_db()
    return _where(case)


def _first_outcome(step: Any, definition: Any) -> str | None:
    """The step's first outcome, if deciding it needs nothing the caseworker would have to record."""
    if step is None or not isinstance(step, HumanStep) or not step.outcomes:
        return None
    if step.form:
        required = json.loads(definition.files[step.form]).get("required") or []
        if required:
            return None
    return next(iter(step.outcomes))


def _where(case: Case) -> str:
    open_steps = sorted(Task.objects.filter(case=case, status=Task.Status.OPEN).values_list("step", flat=True))
    if case.status == Case.Status.CLOSED:
        return f"closed: {case.outcome}"
    return "at " + ", ".join(open_steps) if open_steps else "waiting"
