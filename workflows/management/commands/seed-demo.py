"""civicflow seed-demo — demo users for every role, with generated passwords printed."""

from __future__ import annotations

import json
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from workflows.models import CitizenAccount, DefinitionVersion, Program, RoleGrant
from workflows.programs import definition_of
from workflows.roles import STAFF_ROLES

DEMO_CITIZEN_EMAIL = "citizen@example.org"


class Command(BaseCommand):
    help = "Create (or keep) one demo user per role and print how to sign in. Development only."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="where the demo is served")

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
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        logins_file.write_text(json.dumps(logins, indent=2))
        logins_file.chmod(0o600)
        url = options["url"]
        self.stdout.write(f"\nCivicFlow demo: {url}/  (staff sign in: {url}/accounts/login/)")
        self.stdout.write("Demo logins (also in var/demo-logins.json):")
        for username in wanted:
            if username != "citizen":
                self.stdout.write(f"  {username:<14} {logins[username]}")
        self.stdout.write(f"Citizen (sign in at {url}/account/sign-in/): {DEMO_CITIZEN_EMAIL}  {logins['citizen']}")

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
