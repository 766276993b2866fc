"""civicflow revoke-token --username U [--name N] — refuse an account's API tokens from now on."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser

from workflows import services


class Command(BaseCommand):
    help = (
        "Revoke the live API tokens of an account (only those with --name, if given): the API refuses them "
        "with 401 from the next request on. Tokens are kept, revoked, so the history still names them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True, help="the account whose tokens to revoke")
        parser.add_argument("--name", default="", help="revoke only the tokens with this name (see the admin)")

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"].strip()
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"there is no account named {username!r}")
        name: str = options["name"].strip()
        count = services.api_tokens_revoke(user=user, name=name)
        which = f" named {name!r}" if name else ""
        if count == 0:
            self.stdout.write(f"{username} has no live token{which}: nothing revoked")
        else:
            self.stdout.write(f"revoked {count} token(s){which} of {username}")
