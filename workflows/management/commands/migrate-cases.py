"""civicflow migrate-cases PROGRAM --from HASH --to HASH [--map FILE] [--dry-run] — move running cases on."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

import engine
from workflows import programs, services
from workflows.models import Case, DefinitionVersion, Program

MIN_HASH_PREFIX = 8


class Command(BaseCommand):
    help = (
        "Move the running cases of PROGRAM from one published version (--from) to another (--to), "
        "renaming steps as the map file says. Every case is rehearsed first; a case that cannot move "
        "(a token at a step the new version lacks or changed, an open task whose role changed...) "
        "stops the whole run unless --skip-problem-cases. Each case moves in one transaction and gets "
        "a 'migrated' event in its history. --dry-run only rehearses and changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("program", help="the program id")
        parser.add_argument(
            "--from", dest="source", required=True, metavar="HASH", help="the version the cases run on now"
        )
        parser.add_argument("--to", dest="target", required=True, metavar="HASH", help="the version to move them to")
        parser.add_argument(
            "--map",
            dest="map_file",
            type=Path,
            metavar="FILE",
            help="a YAML file 'steps: {old_name: new_name}' (steps not named keep their names)",
        )
        parser.add_argument("--dry-run", action="store_true", help="rehearse every case and report; change nothing")
        parser.add_argument(
            "--skip-problem-cases",
            action="store_true",
            help="move the cases that can move and leave the others on their version",
        )
        parser.add_argument("--by", default="", help="who is moving the cases, kept in each case's history")

    def handle(self, *args: Any, **options: Any) -> None:
        slug = options["program"]
        program = Program.objects.filter(slug=slug).first()
        if program is None:
            raise CommandError(f"{slug}: no such program has been published")
        source = _version(program, options["source"], "--from")
        target = _version(program, options["target"], "--to")
        if source.pk == target.pk:
            raise CommandError(f"--from and --to are the same version ({source.content_hash[:12]})")
        step_map = self.step_map(options["map_file"])
        old = programs.definition_of(source)
        new = programs.definition_of(target)
        map_problems = engine.check_step_map(old, new, step_map)
        if map_problems:
            for problem in map_problems:
                self.stderr.write(str(problem))
            raise CommandError("the step map does not fit these two versions; nothing was changed")

        ids = list(
            Case.objects.filter(program=program, version=source, status=Case.Status.RUNNING)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        moves = f"{source.content_hash[:12]} -> {target.content_hash[:12]}"
        self.stdout.write(f"{slug}: {len(ids)} running case(s) on {source.content_hash[:12]}; rehearsing {moves}")
        rehearsals = {
            case_id: services.case_migrate(case_id=case_id, target_version=target, step_map=step_map, dry_run=True)
            for case_id in ids
        }
        for rehearsal in rehearsals.values():
            self.report(rehearsal, "OK" if not rehearsal.errors else "cannot move")
        blocked = {case_id for case_id, rehearsal in rehearsals.items() if rehearsal.errors}
        self.stdout.write(f"rehearsal: {len(ids) - len(blocked)} can move, {len(blocked)} cannot")
        if options["dry_run"]:
            if blocked:
                raise CommandError(f"dry run: {len(blocked)} case(s) cannot move; nothing was changed")
            self.stdout.write("dry run: nothing was changed")
            return
        if blocked and not options["skip_problem_cases"]:
            raise CommandError(
                f"{len(blocked)} case(s) cannot move, so none was moved; fix the map or the new version, "
                "or pass --skip-problem-cases to move the others"
            )

        by = options["by"].strip() or _operator()
        moved = 0
        failed = 0
        for case_id in ids:
            if case_id in blocked:
                continue
            try:
                services.case_migrate(case_id=case_id, target_version=target, step_map=step_map, by=by)
            except services.MigrationRefused as refusal:
                # The case changed between the rehearsal and now (it moved on, or closed).
                failed += 1
                self.stderr.write(str(refusal))
                continue
            moved += 1
        self.stdout.write(
            f"{slug}: moved {moved} of {len(ids)} case(s) {moves}; {len(blocked)} skipped, {failed} refused when moved"
        )
        if failed:
            raise CommandError(f"{failed} case(s) changed since the rehearsal and were not moved; run again")

    def step_map(self, path: Path | None) -> dict[str, str]:
        if path is None:
            return {}
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CommandError(f"{path}: no such file") from None
        except UnicodeDecodeError:
            raise CommandError(f"{path}: not UTF-8 text") from None
        except OSError as error:
            raise CommandError(f"{path}: cannot be read ({error.strerror})") from None
        try:
            return engine.parse_step_map(str(path), text)
        except engine.DefinitionError as error:
            for problem in error.problems:
                self.stderr.write(str(problem))
            raise CommandError(f"{path}: the step map has problems; nothing was changed") from None

    def report(self, rehearsal: services.CaseMigration, verdict: str) -> None:
        self.stdout.write(f"  {rehearsal.reference}: {verdict}")
        for problem in rehearsal.problems:
            self.stdout.write(f"    {problem}")


def _version(program: Program, prefix: str, option: str) -> DefinitionVersion:
    """The program's published version whose hash starts with ``prefix`` (at least 8 characters)."""
    wanted = prefix.strip().lower()
    if len(wanted) < MIN_HASH_PREFIX or any(char not in "0123456789abcdef" for char in wanted):
        raise CommandError(
            f"{option} {prefix!r}: give at least {MIN_HASH_PREFIX} hexadecimal characters of a version's hash "
            "(civicflow load-definitions and the admin show them)"
        )
    found = list(DefinitionVersion.objects.filter(program=program, content_hash__startswith=wanted)[:2])
    if not found:
        raise CommandError(f"{option} {prefix}: {program.slug} has no published version with such a hash")
    if len(found) > 1:
        raise CommandError(f"{option} {prefix}: more than one version of {program.slug} starts so; give more of it")
    return found[0]


def _operator() -> str:
    """The account running the command, as the operating system knows it."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container
        return "operator"
