"""civicflow access-log [--case REFERENCE] [--user NAME] [--since DATE] — who opened which case."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from workflows.models import AccessLog, Case


class Command(BaseCommand):
    help = (
        "Print the access log, oldest first: when, who, what they did (viewed a case page, downloaded "
        "a file, revealed a hidden answer), which case, and the detail (the task, file or answer)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--case", metavar="REFERENCE", help="only this case, e.g. LC-2026-000042")
        parser.add_argument("--user", metavar="NAME", help="only this staff member's user name")
        parser.add_argument("--since", metavar="DATE", help="only from this day on (YYYY-MM-DD, server time zone)")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = AccessLog.objects.select_related("user", "case").order_by("at", "pk")
        if options["case"] is not None:
            case = Case.objects.filter(reference=options["case"].strip()).first()
            if case is None:
                raise CommandError(f"there is no case {options['case']!r}; a reference looks like LC-2026-000042")
            rows = rows.filter(case=case)
        if options["user"] is not None:
            user = User.objects.filter(username=options["user"].strip()).first()
            if user is None:
                raise CommandError(f"there is no user {options['user']!r}")
            rows = rows.filter(user=user)
        if options["since"] is not None:
            rows = rows.filter(at__gte=_start_of(options["since"]))
        count = 0
        for row in rows.iterator():
            count += 1
            at = timezone.localtime(row.at).strftime("%Y-%m-%d %H:%M:%S")
            detail = ", ".join(f"{key} {value}" for key, value in sorted(row.detail.items()))
            self.stdout.write(f"{at}  {row.user.get_username()}  {row.action}  {row.case.reference}  {detail}".rstrip())
        self.stdout.write(f"{count} access(es)")


def _start_of(text: str) -> datetime:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(f"--since must be a date like 2026-03-01, not {text!r}") from None
    return timezone.make_aware(datetime.combine(day, time.min))
