"""civicflow createuser --username U --email E [--role R ... --agency A [--queue Q]] [--token] — a staff account."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from engine.loading import NAME
from workflows import selectors, services
from workflows.roles import ALL_AGENCIES, STAFF_ROLES


class Command(BaseCommand):
    help = (
        "Create a staff account, or update the one with this user name, giving it exactly the roles named "
        "for the agency (and queue) named; its roles for other agencies and queues stay. "
        "With --token, also issue an API token for it and print the token once: it is stored only as a hash, "
        "so it cannot be shown again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True, help="the account's user name")
        parser.add_argument("--email", required=True, help="the account's e-mail address")
        parser.add_argument(
            "--role",
            action="append",
            default=[],
            dest="roles",
            metavar="ROLE",
            help="a role the account holds (a program's role, such as librarian); repeat for several",
        )
        parser.add_argument(
            "--agency",
            default="",
            help="the agency the roles are for, as program.yaml names it (city-library), or * for every agency; "
            "required with --role",
        )
        parser.add_argument("--queue", default="", help="only the tasks routed to this queue (default: every queue)")
        parser.add_argument("--token", action="store_true", help="issue an API token and print it once")
        parser.add_argument("--token-name", default="", help="what the token is for (default: the user name)")

    def handle(self, *args: Any, **options: Any) -> None:
        roles: list[str] = options["roles"]
        malformed = [role for role in roles if not NAME.fullmatch(role)]
        if malformed:
            raise CommandError(
                f"not a role name: {', '.join(map(repr, malformed))} (roles are written like librarian or case_worker)"
            )
        agency: str = options["agency"].strip()
        if roles and not agency:
            raise CommandError("--agency is required with --role: the agency's slug (city-library), or * for all")
        try:
            user, created = services.staff_user_save(
                username=options["username"],
                email=options["email"],
                roles=roles,
                agency=agency,
                queue=options["queue"],
            )
        except services.ServiceError as refusal:
            raise CommandError(refusal.message) from None
        # A misspelt role gives no access and no error anywhere else: say so here.
        known = selectors.roles_in_use() | set(STAFF_ROLES)
        for role in sorted(set(roles) - known):
            self.stderr.write(f"warning: no published program has the role {role!r}")
        if agency and agency != ALL_AGENCIES and agency not in selectors.agencies_in_use():
            self.stderr.write(f"warning: no program belongs to the agency {agency!r}")
        held = ", ".join(sorted(roles)) or "no roles"
        if roles:
            held += f" for {'every agency' if agency == ALL_AGENCIES else agency}"
            held += f", queue {options['queue'].strip()}" if options["queue"].strip() else ""
        self.stdout.write(f"{'created' if created else 'updated'} {user.get_username()} ({held})")
        if options["token"]:
            _, secret = services.api_token_issue(user=user, name=options["token_name"] or user.get_username())
            self.stdout.write("API token (shown once; keep it secret):")
            self.stdout.write(secret)
