"""Reading a program's files into the model, collecting every problem on the way.

The loader is handed text, never paths to open: the caller does the I/O. Each
reader below takes one file's parsed document and appends to a shared problem
list, so an author sees every mistake in one pass.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any, TypeGuard

from engine import calendar as calendars
from engine import expressions, tables
from engine.model import (
    DEFAULT_DRAFT_DAYS,
    EMPTY_TEXT,
    MAX_DRAFT_DAYS,
    SHARING_POLICIES,
    ActionStep,
    AfterSubmitting,
    ApplicantContact,
    Clock,
    Compiled,
    DecideStep,
    Definition,
    EachStep,
    EndStep,
    Escalation,
    EventSpec,
    FinishStep,
    Flow,
    HumanStep,
    JoinStep,
    NoticeStep,
    Panel,
    ParallelStep,
    Privacy,
    Program,
    RequestStep,
    Retention,
    Route,
    StartPage,
    Step,
    SubworkflowStep,
    Text,
    Trigger,
    WaitStep,
    Where,
)
from engine.problems import DefinitionError, Problem
from engine.source import Document, Pointer, parse_json, parse_yaml

PROGRAM_FILE = "program.yaml"
FORM_FILE = "form.schema.json"
WORKFLOW_FILE = "workflow.yaml"
REQUIRED_FILES = (PROGRAM_FILE, FORM_FILE, WORKFLOW_FILE)
DEFAULT_CALENDAR = "weekdays"
ALL_CHANNELS = ("online", "counter", "phone", "paper", "api")

NAME = re.compile(r"^[a-z][a-z0-9_]*$")
PROGRAM_ID = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
PREFIX = re.compile(r"^[A-Z]{1,6}$")
NOTICE_FILE = re.compile(r"^notices/(?P<name>[a-z][a-z0-9_]*)\.(?P<lang>[A-Za-z-]+)\.md$")
TABLE_FILE = re.compile(r"^tables/(?P<name>[^/]+)\.yaml$")  # load_table refuses a name that is not snake_case
CALENDAR_FILE = re.compile(r"^calendars/(?P<name>[a-z][a-z0-9-]*)\.yaml$")
KEEP_FOR = re.compile(r"^(?P<days>[0-9]+) days?$")
"""``drafts: keep for``: a whole number of days (1 to ``MAX_DRAFT_DAYS``, checked apart)."""
FEEDBACK_URL = re.compile(r"^https://[^\s/?#]+([/?#]\S*)?$")
"""``after submitting: feedback``: an https address with a host and no spaces."""

PROGRAM_KEYS = {
    "id",
    "title",
    "summary",
    "agency",
    "reference prefix",
    "roles",
    "languages",
    "channels",
    "timezone",
    "retention",
    "privacy",
    "version notes",
    "start page",
    "after submitting",
    "drafts",
    "contact",
}
START_PAGE_KEYS = {"purpose", "time needed", "you will need", "other ways to apply"}
AFTER_SUBMITTING_KEYS = {"what happens next", "contact", "feedback"}
DRAFTS_KEYS = {"keep for"}
RETENTION_KEYS = {"closed cases"}
RETENTION_UNITS = ("day", "week", "month", "year")
"""``retention: closed cases`` counts calendar time (business days and hours make no sense for years of keeping)."""
PRIVACY_KEYS = {"sharing", "sensitive fields seen by"}
CONTACT_KEYS = {"email", "phone"}
ANSWER_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
"""``contact: {email: ...}``: a dotted path to one answer of the form, e.g. ``contact.email``."""

STEP_KINDS = (
    "task",
    "approval",
    "decide",
    "action",
    "notice",
    "parallel",
    "join",
    "each",
    "wait",
    "request information",
    "subworkflow",
    "end",
    "finish",
)
COMMON_KEYS = {"kind", "title", "status"}
HUMAN_KEYS = {
    "role",
    "outcomes",
    "queue",
    "assign",
    "same person as",
    "not same person as",
    "form",
    "due",
    "on overdue",
    "levels",
    "panel",
}
ASSIGN_STRATEGIES = ("round robin", "least loaded")
CUSTOM_FUNCTIONS: Mapping[str, tuple[int, int | None]] = {"table": (3, None)}
"""Functions the engine adds to expressions: ``table(name, output, input…)``."""


def content_hash(files: Mapping[str, str]) -> str:
    """SHA-256 over every file's name and text, in name order: the version's identity."""
    digest = hashlib.sha256()
    for name in sorted(files):
        encoded_name = name.encode("utf-8")
        encoded_text = files[name].encode("utf-8")
        digest.update(len(encoded_name).to_bytes(8, "big") + encoded_name)
        digest.update(len(encoded_text).to_bytes(8, "big") + encoded_text)
    return digest.hexdigest()


def load(files: Mapping[str, str], *, folder: str = "") -> Definition:
    """Build a ``Definition`` from a program's files (relative name -> text).

    ``folder`` prefixes file names in problem locations. Raises ``DefinitionError``
    carrying every error found; warnings are available from ``check``.
    """
    definition, problems = read(files, folder=folder)
    errors = [problem for problem in problems if problem.severity == "error"]
    if errors or definition is None:
        raise DefinitionError(errors)
    return definition


def read(files: Mapping[str, str], *, folder: str = "") -> tuple[Definition | None, list[Problem]]:
    """The Definition (when it could be built) and every problem, errors and warnings."""
    from engine import checks  # the graph checks need the finished model

    reader = _Reader(files, folder)
    definition = reader.read()
    problems = reader.problems
    if definition is not None:
        problems.extend(checks.check(definition, prefix=reader.prefix))
    return definition, problems


class _Reader:
    def __init__(self, files: Mapping[str, str], folder: str) -> None:
        self.files = files
        self.prefix = f"{folder.rstrip('/')}/" if folder else ""
        self.problems: list[Problem] = []
        self.languages: tuple[str, ...] = ("en",)
        self.roles: tuple[str, ...] = ()
        self.events: dict[str, EventSpec] = {}
        self.document: Document | None = None

    # -- helpers --------------------------------------------------------------------

    def problem(self, pointer: Pointer, code: str, message: str, severity: str = "error") -> None:
        assert self.document is not None
        found = self.document.problem(pointer, code, message)
        self.problems.append(
            Problem(found.path, found.line, found.col, found.code, found.message, severity)
            if severity != "error"
            else found
        )

    def where(self, pointer: Pointer) -> Where:
        assert self.document is not None
        found = self.document.problem(pointer, "", "")
        return Where(found.path, found.line, found.col)

    def parse(self, name: str, parser: Callable[[str, str], Document]) -> Document | None:
        try:
            return parser(self.prefix + name, self.files[name])
        except DefinitionError as error:
            self.problems.extend(error.problems)
            return None

    def known_keys(self, pointer: Pointer, data: Mapping[str, Any], known: Iterable[str]) -> None:
        allowed = set(known)
        for key in data:
            if key not in allowed:
                self.problem(
                    (*pointer, key),
                    "unknown_key",
                    f"unknown key {key!r}; expected one of: {', '.join(sorted(allowed))}",
                )

    def text(self, pointer: Pointer, value: object, *, required: bool, label: str | None = None) -> Text | None:
        label = label or (str(pointer[-1]) if pointer else "text")
        if value is None:
            if required:
                self.problem(pointer, "missing_key", f"{label} must be given, e.g. {{en: ...}}")
            return None
        if isinstance(value, str) and value.strip():
            value = {"en": value}  # plain text is English
        if not isinstance(value, dict) or not value:
            self.problem(pointer, "invalid_text", f"{label} must map language codes to text, e.g. {{en: ...}}")
            return None
        text: dict[str, str] = {}
        for language, words in value.items():
            if not LANGUAGE.fullmatch(language):
                self.problem((*pointer, language), "invalid_language", f"{language!r} is not a language code")
            elif not isinstance(words, str) or not words.strip():
                self.problem((*pointer, language), "invalid_text", f"{language} text must not be empty")
            else:
                text[language] = words
        for language in self.languages:
            if language not in text:
                self.problem(
                    pointer,
                    "missing_translation",
                    f"{label} has no {language} text; the program offers {', '.join(self.languages)}",
                )
        return MappingProxyType(text)

    def name_value(self, pointer: Pointer, value: object, what: str) -> str | None:
        if value is None:
            self.problem(pointer, "missing_key", f"{pointer[-1] if pointer else 'a name'} must be given: {what}")
            return None
        if not isinstance(value, str) or not NAME.fullmatch(value):
            self.problem(pointer, "invalid_name", f"{what} must be a snake_case name like next_step, not {value!r}")
            return None
        return value

    def duration(self, pointer: Pointer, value: object, *, required: bool = False) -> Any:
        if value is None:
            if required:
                self.problem(pointer, "missing_key", f"{pointer[-1]} needs a duration, e.g. 10 business days")
            return None
        if not isinstance(value, str):
            self.problem(pointer, "invalid_duration", f"{pointer[-1]} must be words like '10 business days'")
            return None
        try:
            return calendars.parse_duration(value)
        except calendars.DurationError as error:
            self.problem(pointer, "invalid_duration", str(error))
            return None

    def expression(self, pointer: Pointer, value: object) -> Compiled | None:
        if value is None:
            return None
        try:
            compiled = expressions.compile_expression(value, custom_functions=CUSTOM_FUNCTIONS)
        except expressions.ExpressionError as error:
            where = self.where(pointer)
            # Point at the character inside the expression when it sits on one line.
            col = where.col + error.offset if isinstance(value, str) and "\n" not in value else where.col
            self.problems.append(Problem(where.path, where.line, col, error.code, error.message))
            return None
        source = value if isinstance(value, str) else compiled.source
        return Compiled(source, compiled, self.where(pointer))

    def role(self, pointer: Pointer, value: object) -> str | None:
        if not isinstance(value, str):
            self.problem(pointer, "missing_key", "a role must be named")
            return None
        if value not in self.roles:
            self.problem(pointer, "unknown_role", f"role {value!r} is not declared in program.yaml roles")
        return value

    def target(self, pointer: Pointer, value: object) -> str | None:
        if not isinstance(value, str):
            self.problem(pointer, "missing_key", f"{pointer[-1]} must name the next step")
            return None
        return value

    def names(self, pointer: Pointer, value: object) -> tuple[str, ...]:
        if value is None:
            return ()
        items = value if isinstance(value, list) else [value]
        return tuple(item for index, item in enumerate(items) if self.name_value((*pointer, index), item, "a name"))

    # -- files ----------------------------------------------------------------------

    def read(self) -> Definition | None:
        for name in REQUIRED_FILES:
            if name not in self.files:
                self.problems.append(Problem(self.prefix + name, 0, 0, "missing_file", f"the program has no {name}"))
        if self.problems:
            return None
        program_doc = self.parse(PROGRAM_FILE, parse_yaml)
        workflow_doc = self.parse(WORKFLOW_FILE, parse_yaml)
        form_doc = self.parse(FORM_FILE, parse_json)
        if program_doc is None or workflow_doc is None or form_doc is None:
            return None
        program = self.read_program(program_doc)
        self.document = form_doc
        form_schema = form_doc.data
        if not isinstance(form_schema, dict):
            self.problem((), "invalid_type", "the form schema must be a JSON object")
        notices = self.read_notices()
        decision_tables = self.read_tables()
        workflow = self.read_workflow(workflow_doc, decision_tables)
        if program is None or workflow is None or not isinstance(form_schema, dict):
            return None
        flows, clocks, escalations, conditions, calendar_id, default_outcome = workflow
        calendar = self.read_calendar(calendar_id, workflow_doc)
        if calendar is None:
            return None
        return Definition(
            program=program,
            form_schema=MappingProxyType(form_schema),
            flows=MappingProxyType(flows),
            clocks=MappingProxyType(clocks),
            escalations=MappingProxyType(escalations),
            conditions=MappingProxyType(conditions),
            tables=MappingProxyType(decision_tables),
            notices=MappingProxyType(notices),
            calendar=calendar,
            default_outcome=default_outcome,
            files=MappingProxyType(dict(self.files)),
            content_hash=content_hash(self.files),
            events=MappingProxyType(self.events),
        )

    def read_program(self, document: Document) -> Program | None:
        self.document = document
        data = document.data
        if not isinstance(data, dict):
            self.problem((), "invalid_type", "program.yaml must be a mapping of keys to values")
            return None
        self.known_keys((), data, PROGRAM_KEYS)
        languages = data.get("languages", ["en"])
        if not isinstance(languages, list) or not languages or not all(isinstance(code, str) for code in languages):
            self.problem(("languages",), "invalid_type", "languages must list language codes, e.g. [en, zh-Hans]")
        else:
            for index, code in enumerate(languages):
                if not LANGUAGE.fullmatch(code):
                    self.problem(("languages", index), "invalid_language", f"{code!r} is not a language code")
            if "en" not in languages:
                self.problem(("languages",), "missing_translation", "languages must include English (en)")
            self.languages = tuple(languages)
        program_id = data.get("id")
        if not isinstance(program_id, str) or not PROGRAM_ID.fullmatch(program_id):
            self.problem(
                ("id",), "invalid_id", "id must be lower-case letters, digits and dashes, starting with a letter"
            )
            program_id = None
        title = self.text(("title",), data.get("title"), required=True)
        summary = self.text(("summary",), data.get("summary"), required=False)
        agency = data.get("agency")
        if not isinstance(agency, str) or not agency.strip():
            self.problem(("agency",), "missing_key", "agency must be given as text")
            agency = None
        prefix = data.get("reference prefix")
        if not isinstance(prefix, str) or not PREFIX.fullmatch(prefix):
            self.problem(("reference prefix",), "invalid_prefix", "reference prefix must be 1-6 capital letters")
            prefix = None
        roles_value = data.get("roles")
        roles: list[str] = []
        if not isinstance(roles_value, list) or not roles_value:
            self.problem(("roles",), "missing_key", "roles must list at least one role name")
        else:
            for index, role in enumerate(roles_value):
                if not isinstance(role, str) or not NAME.fullmatch(role):
                    self.problem(
                        ("roles", index),
                        "invalid_name",
                        f"role {role!r} must be a snake_case name like eligibility_worker",
                    )
                elif role in roles:
                    self.problem(("roles", index), "duplicate_role", f"role {role!r} is listed twice")
                else:
                    roles.append(role)
        self.roles = tuple(roles)
        channels = data.get("channels", list(ALL_CHANNELS))
        allowed_channels = ALL_CHANNELS
        if not isinstance(channels, list) or not all(channel in allowed_channels for channel in channels):
            self.problem(
                ("channels",), "invalid_channel", f"channels must be chosen from: {', '.join(allowed_channels)}"
            )
            channels = list(allowed_channels)
        timezone = data.get("timezone", "America/Los_Angeles")
        if not isinstance(timezone, str) or not calendars.is_timezone(timezone):
            self.problem(("timezone",), "invalid_timezone", f"{timezone!r} is not a time zone like America/Los_Angeles")
            timezone = "America/Los_Angeles"
        retention = self.read_retention(data.get("retention"))
        privacy = self.read_privacy(data.get("privacy"))
        notes = self.text(("version notes",), data.get("version notes"), required=False)
        start_page = self.read_start_page(data.get("start page"))
        after_submitting = self.read_after_submitting(data.get("after submitting"))
        draft_days = self.read_drafts(data.get("drafts"))
        contact = self.read_contact(data.get("contact"))
        # With problems already reported, stand-ins keep the rest of the checks going.
        return Program(
            id=program_id or "unnamed",
            title=title or EMPTY_TEXT,
            summary=summary or EMPTY_TEXT,
            agency=agency or "unknown",
            reference_prefix=prefix or "X",
            roles=tuple(roles),
            languages=self.languages,
            channels=tuple(channels),
            timezone=timezone,
            retention=retention,
            privacy=privacy,
            version_notes=notes or EMPTY_TEXT,
            start_page=start_page,
            after_submitting=after_submitting,
            draft_days=draft_days,
            contact=contact,
        )

    def section(self, key: str, value: object, known: Iterable[str], example: str) -> dict[str, Any] | None:
        """A program.yaml section that maps keys to values; None when left out, empty or not a mapping."""
        if value is None:
            return None
        if not isinstance(value, dict):
            self.problem((key,), "invalid_type", f"{key} must be a mapping of keys to values, e.g. {example}")
            return None
        self.known_keys((key,), value, known)
        return value

    def read_start_page(self, value: object) -> StartPage | None:
        data = self.section("start page", value, START_PAGE_KEYS, "{purpose: ..., time needed: ...}")
        if not data:
            return None
        pointer = ("start page",)
        purpose = self.text((*pointer, "purpose"), data.get("purpose"), required=False)
        time_needed = self.text((*pointer, "time needed"), data.get("time needed"), required=False)
        needed: list[Text] = []
        items = data.get("you will need")
        if isinstance(items, list) and items:
            for index, item in enumerate(items):
                label = f"you will need (item {index + 1})"
                if item is None:
                    self.problem((*pointer, "you will need", index), "invalid_text", f"{label} must not be empty")
                    continue
                text = self.text((*pointer, "you will need", index), item, required=False, label=label)
                if text is not None:
                    needed.append(text)
        elif items is not None:
            self.problem(
                (*pointer, "you will need"),
                "invalid_type",
                "you will need must list what to have at hand, e.g. [Proof of address]",
            )
        other_ways = self.text((*pointer, "other ways to apply"), data.get("other ways to apply"), required=False)
        page = StartPage(purpose, time_needed, tuple(needed), other_ways)
        return None if page == StartPage() else page

    def read_after_submitting(self, value: object) -> AfterSubmitting | None:
        data = self.section("after submitting", value, AFTER_SUBMITTING_KEYS, "{what happens next: ..., contact: ...}")
        if not data:
            return None
        pointer = ("after submitting",)
        what_happens_next = self.text((*pointer, "what happens next"), data.get("what happens next"), required=False)
        contact = self.text((*pointer, "contact"), data.get("contact"), required=False)
        feedback = data.get("feedback")
        if feedback is not None and not (isinstance(feedback, str) and FEEDBACK_URL.fullmatch(feedback)):
            self.problem(
                (*pointer, "feedback"),
                "invalid_value",
                "feedback must be an https address without spaces, e.g. https://example.gov/feedback, "
                f"not {feedback!r}",
            )
            feedback = None
        after = AfterSubmitting(what_happens_next, contact, feedback)
        return None if after == AfterSubmitting() else after

    def read_contact(self, value: object) -> ApplicantContact | None:
        """Which answers notices reach the applicant at; whether the form has them is checked later."""
        data = self.section("contact", value, CONTACT_KEYS, "{email: email, phone: phone}")
        if not data:
            return None
        paths: dict[str, str | None] = {}
        for key in ("email", "phone"):
            path = data.get(key)
            if path is not None and not (isinstance(path, str) and ANSWER_PATH.fullmatch(path)):
                self.problem(
                    ("contact", key),
                    "invalid_value",
                    f"contact {key} must name an answer of the form by its path, e.g. {key} or contact.{key}, "
                    f"not {path!r}",
                )
                path = None
            paths[key] = path
        return ApplicantContact(
            email=paths["email"],
            phone=paths["phone"],
            email_where=self.where(("contact", "email")) if paths["email"] else self.where(("contact",)),
            phone_where=self.where(("contact", "phone")) if paths["phone"] else self.where(("contact",)),
        )

    def read_drafts(self, value: object) -> int:
        data = self.section("drafts", value, DRAFTS_KEYS, "{keep for: 30 days}")
        keep_for = data.get("keep for") if data else None
        if keep_for is None:
            return DEFAULT_DRAFT_DAYS
        match = KEEP_FOR.fullmatch(keep_for) if isinstance(keep_for, str) else None
        if match is None:
            self.problem(
                ("drafts", "keep for"),
                "invalid_duration",
                f"keep for must be a number of days, e.g. 30 days, not {keep_for!r}",
            )
            return DEFAULT_DRAFT_DAYS
        days = int(match["days"])
        if not 1 <= days <= MAX_DRAFT_DAYS:
            self.problem(
                ("drafts", "keep for"),
                "invalid_duration",
                f"keep for must be from 1 to {MAX_DRAFT_DAYS} days, not {keep_for!r}",
            )
            return DEFAULT_DRAFT_DAYS
        return days

    def read_retention(self, value: object) -> Retention:
        """``retention: {closed cases: 7 years}``; left out, cases are kept indefinitely."""
        if value is not None and not isinstance(value, dict):
            self.problem(("retention",), "invalid_type", "retention must map what to keep to how long")
            return Retention()
        data = self.section("retention", value, RETENTION_KEYS, "{closed cases: 7 years}")
        written = data.get("closed cases") if data else None
        if written is None:
            return Retention()
        try:
            duration = calendars.parse_duration(written)
        except calendars.DurationError:
            duration = None
        if duration is None or duration.unit not in RETENTION_UNITS:
            self.problem(
                ("retention", "closed cases"),
                "invalid_duration",
                "closed cases must say how long a closed case is kept: a whole number of days, weeks, months "
                f"or years, at most 100 years, e.g. 7 years, not {written!r}",
            )
            return Retention()
        return Retention(closed_cases=duration)

    def read_privacy(self, value: object) -> Privacy:
        """``privacy: {sharing: none, sensitive fields seen by: [role, ...]}``; roles must be the program's."""
        data = self.section("privacy", value, PRIVACY_KEYS, "{sharing: none, sensitive fields seen by: [supervisor]}")
        if not data:
            return Privacy()
        sharing = data.get("sharing", "none")
        if sharing not in SHARING_POLICIES:
            self.problem(
                ("privacy", "sharing"),
                "invalid_value",
                f"sharing must be one of: {', '.join(SHARING_POLICIES)}, not {sharing!r}",
            )
            sharing = "none"
        seen_by: list[str] = []
        roles = data.get("sensitive fields seen by")
        pointer: Pointer = ("privacy", "sensitive fields seen by")
        if roles is not None and not (isinstance(roles, list) and all(isinstance(role, str) for role in roles)):
            self.problem(pointer, "invalid_type", "sensitive fields seen by must list role names, e.g. [supervisor]")
        elif roles is not None:
            for index, role in enumerate(roles):
                if role not in self.roles:
                    self.problem(
                        (*pointer, index), "unknown_role", f"role {role!r} is not declared in program.yaml roles"
                    )
                elif role in seen_by:
                    self.problem((*pointer, index), "duplicate_role", f"role {role!r} is listed twice")
                else:
                    seen_by.append(role)
        return Privacy(sharing=sharing, sensitive_fields_seen_by=tuple(seen_by))

    def read_notices(self) -> dict[str, dict[str, str]]:
        notices: dict[str, dict[str, str]] = {}
        for name, text in self.files.items():
            match = NOTICE_FILE.match(name)
            if match:
                notices.setdefault(match["name"], {})[match["lang"]] = text
            elif name.startswith("notices/"):
                self.problems.append(
                    Problem(
                        self.prefix + name,
                        0,
                        0,
                        "invalid_file_name",
                        "notice files are named notices/<notice>.<language>.md, e.g. notices/approval.en.md",
                    )
                )
        return notices

    def read_tables(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, text in self.files.items():
            match = TABLE_FILE.match(name)
            if match:
                try:
                    found[match["name"]] = tables.load_table(self.prefix + name, text, table_id=match["name"])
                except DefinitionError as error:
                    self.problems.extend(error.problems)
        return found

    def read_calendar(self, calendar_id: str, workflow_doc: Document) -> Any:
        name = f"calendars/{calendar_id}.yaml"
        if name not in self.files:
            if calendar_id == DEFAULT_CALENDAR:
                return calendars.Calendar(id=DEFAULT_CALENDAR)
            self.document = workflow_doc
            self.problem(
                ("calendar",),
                "unknown_calendar",
                f"calendar {calendar_id!r} is not among the shared calendars (definitions/calendars/)",
            )
            return None
        try:
            return calendars.load_calendar(self.prefix + name, self.files[name])
        except DefinitionError as error:
            self.problems.extend(error.problems)
            return None

    # -- workflow -------------------------------------------------------------------

    def read_workflow(
        self, document: Document, decision_tables: Mapping[str, Any]
    ) -> tuple[dict[str, Flow], dict[str, Clock], dict[str, Escalation], dict[str, Compiled], str, str] | None:
        self.document = document
        data = document.data
        if not isinstance(data, dict):
            self.problem((), "invalid_type", "workflow.yaml must be a mapping of keys to values")
            return None
        self.known_keys(
            (),
            data,
            {
                "start",
                "steps",
                "calendar",
                "clocks",
                "escalations",
                "conditions",
                "events",
                "subworkflows",
                "default outcome",
            },
        )
        self.events = self.read_events(data.get("events", {}))
        calendar_id = data.get("calendar", DEFAULT_CALENDAR)
        if not isinstance(calendar_id, str):
            self.problem(("calendar",), "invalid_type", "calendar must name a calendar, e.g. us-federal")
            calendar_id = DEFAULT_CALENDAR
        default_outcome = self.name_value(("default outcome",), data.get("default outcome", "completed"), "an outcome")
        conditions: dict[str, Compiled] = {}
        raw_conditions = data.get("conditions", {})
        if not isinstance(raw_conditions, dict):
            self.problem(("conditions",), "invalid_type", "conditions must map names to expressions")
        else:
            for name, source in raw_conditions.items():
                if self.name_value(("conditions", name), name, "a condition name"):
                    compiled = self.expression(("conditions", name), source)
                    if compiled is not None:
                        conditions[name] = compiled
        escalations = self.read_escalations(data.get("escalations", {}))
        clocks = self.read_clocks(data.get("clocks", {}), escalations)
        flows = {"": self.read_flow((), data, "", decision_tables)}
        subflows = data.get("subworkflows", {})
        if not isinstance(subflows, dict):
            self.problem(("subworkflows",), "invalid_type", "subworkflows must map names to {start, steps}")
        else:
            for name, raw in subflows.items():
                if not self.name_value(("subworkflows", name), name, "a sub-workflow name"):
                    continue
                if not isinstance(raw, dict):
                    self.problem(("subworkflows", name), "invalid_type", "a sub-workflow has start and steps")
                    continue
                self.known_keys(("subworkflows", name), raw, {"start", "steps"})
                flows[name] = self.read_flow(("subworkflows", name), raw, name, decision_tables)
        for flow in flows.values():
            for step in flow.steps.values():
                if isinstance(step, SubworkflowStep) and step.run not in flows:
                    self.problems.append(
                        Problem(
                            step.where.path,
                            step.where.line,
                            step.where.col,
                            "unknown_subworkflow",
                            f"step {step.name!r} runs {step.run!r}, which is not under subworkflows",
                        )
                    )
        return flows, clocks, escalations, conditions, calendar_id, default_outcome or "completed"

    def read_events(self, raw: object) -> dict[str, EventSpec]:
        """``events: {payment_received: {form: forms/payment.schema.json, sent by: [cashier]}}``."""
        found: dict[str, EventSpec] = {}
        if not isinstance(raw, dict):
            self.problem(("events",), "invalid_type", "events must map event names to {form, sent by}")
            return found
        for name, spec in raw.items():
            where: Pointer = ("events", name)
            if not self.name_value(where, name, "an event name"):
                continue
            spec = {} if spec is None else spec
            if not isinstance(spec, dict):
                self.problem(where, "invalid_type", "an event is {form: forms/<file>.schema.json, sent by: [role]}")
                continue
            self.known_keys(where, spec, {"form", "sent by"})
            form = spec.get("form")
            if form is not None and (not isinstance(form, str) or form not in self.files):
                self.problem(
                    (*where, "form"),
                    "missing_file",
                    f"the event's form {form!r} is not a file of the program (e.g. forms/{name}.schema.json)",
                )
                form = None
            senders = self.names((*where, "sent by"), spec.get("sent by"))
            for index, role in enumerate(senders):
                at = (*where, "sent by", index) if isinstance(spec.get("sent by"), list) else (*where, "sent by")
                self.role(at, role)
            found[name] = EventSpec(name, form, senders, self.where(where))
        return found

    def read_escalations(self, raw: object) -> dict[str, Escalation]:
        found: dict[str, Escalation] = {}
        if not isinstance(raw, dict):
            self.problem(("escalations",), "invalid_type", "escalations must map names to what happens")
            return found
        for name, spec in raw.items():
            where: Pointer = ("escalations", name)
            if not self.name_value(where, name, "an escalation name"):
                continue
            if not isinstance(spec, dict):
                self.problem(where, "invalid_type", "an escalation says whom to notify and/or the priority to raise")
                continue
            self.known_keys(where, spec, {"notify", "notice", "raise priority"})
            notify = spec.get("notify", [])
            notify_list = notify if isinstance(notify, list) else [notify]
            for index, role in enumerate(notify_list):
                if role != "citizen" and role not in self.roles:
                    self.problem(
                        (*where, "notify", index), "unknown_role", f"role {role!r} is not declared in program.yaml"
                    )
            priority = spec.get("raise priority")
            if priority is not None and priority not in ("high", "urgent"):
                self.problem((*where, "raise priority"), "invalid_value", "raise priority is high or urgent")
            notice = spec.get("notice")
            found[name] = Escalation(
                name=name,
                notify=tuple(str(role) for role in notify_list),
                notice=notice if isinstance(notice, str) else None,
                raise_priority=priority if isinstance(priority, str) else None,
                where=self.where(where),
            )
        return found

    def read_clocks(self, raw: object, escalations: Mapping[str, Escalation]) -> dict[str, Clock]:
        found: dict[str, Clock] = {}
        if not isinstance(raw, dict):
            self.problem(("clocks",), "invalid_type", "clocks must map names to {limit, starts, ...}")
            return found
        for name, spec in raw.items():
            where: Pointer = ("clocks", name)
            if not self.name_value(where, name, "a clock name"):
                continue
            if not isinstance(spec, dict):
                self.problem(where, "invalid_type", "a clock has a limit, e.g. limit: 20 business days")
                continue
            self.known_keys(
                where, spec, {"limit", "starts", "stops", "warn at", "on warn", "on breach", "paused while"}
            )
            limit = self.duration((*where, "limit"), spec.get("limit"), required=True)
            starts = spec.get("starts", "on submit")
            if not isinstance(starts, str) or not (starts == "on submit" or starts.startswith("on entering ")):
                self.problem((*where, "starts"), "invalid_value", "starts is 'on submit' or 'on entering <step>'")
                starts = "on submit"
            stops: list[str] = []
            written = spec.get("stops")
            for index, entry in enumerate(
                written if isinstance(written, list) else [] if written is None else [written]
            ):
                at = (*where, "stops", index) if isinstance(written, list) else (*where, "stops")
                if not isinstance(entry, str) or not entry.startswith("on entering ") or not entry[12:].strip():
                    self.problem(at, "invalid_value", "stops is 'on entering <step>', or a list of them")
                    continue
                stops.append(entry[12:].strip())
            paused = spec.get("paused while")
            if paused not in (None, "waiting for citizen"):
                self.problem((*where, "paused while"), "invalid_value", "paused while takes: waiting for citizen")
            hooks: dict[str, tuple[str, ...]] = {}
            for key in ("on warn", "on breach"):
                hooks[key] = self.names((*where, key), spec.get(key))
                for index, escalation in enumerate(hooks[key]):
                    if escalation not in escalations:
                        self.problem(
                            (*where, key, index) if isinstance(spec.get(key), list) else (*where, key),
                            "unknown_escalation",
                            f"escalation {escalation!r} is not defined under escalations",
                        )
            if limit is None:
                continue
            warn_at = self.duration((*where, "warn at"), spec.get("warn at"))
            if warn_at is not None and warn_at.in_business_days != limit.in_business_days:
                self.problem((*where, "warn at"), "invalid_duration", f"a clock of {limit} {_counted(limit, warn_at)}")
                warn_at = None
            elif warn_at is not None and warn_at.unit == limit.unit and warn_at.amount >= limit.amount:
                self.problem(
                    (*where, "warn at"), "invalid_duration", f"warn at {warn_at} must come before the limit of {limit}"
                )
                warn_at = None
            found[name] = Clock(
                name=name,
                limit=limit,
                starts=starts,
                warn_at=warn_at,
                on_warn=hooks["on warn"],
                on_breach=hooks["on breach"],
                paused_while_waiting=paused == "waiting for citizen",
                where=self.where(where),
                stops=tuple(stops),
            )
        return found

    def read_flow(
        self, base: Pointer, data: Mapping[str, Any], flow_name: str, decision_tables: Mapping[str, Any]
    ) -> Flow:
        raw_steps = data.get("steps")
        if not isinstance(raw_steps, dict) or not raw_steps:
            self.problem((*base, "steps"), "missing_key", "steps must name at least one step")
            raw_steps = {}
        steps: dict[str, Step] = {}
        for name, raw in raw_steps.items():
            step = self.read_step((*base, "steps", name), name, raw, decision_tables)
            if step is not None:
                steps[name] = step
        start = data.get("start")
        if not isinstance(start, str):
            self.problem((*base, "start"), "missing_key", "start must name the first step")
            start = ""
        elif raw_steps and start not in raw_steps:
            self.problem((*base, "start"), "unknown_step", f"start names {start!r}, which is not a step")
        for step in steps.values():
            self.check_targets(base, step, raw_steps)
        return Flow(name=flow_name, start=start, steps=MappingProxyType(steps))

    def check_targets(self, base: Pointer, step: Step, raw_steps: Mapping[str, Any]) -> None:
        pointer: Pointer = (*base, "steps", step.name)
        if isinstance(step, HumanStep):
            for outcome, routes in step.outcomes.items():
                for route in routes:
                    if route.to not in raw_steps:
                        self.problems.append(
                            Problem(
                                route.where.path,
                                route.where.line,
                                route.where.col,
                                "unknown_step",
                                f"outcome {outcome!r} goes to {route.to!r}, which is not a step",
                            )
                        )
        for target in () if isinstance(step, HumanStep) else step.targets():
            if target not in raw_steps:
                self.problems.append(
                    self._at_value(
                        pointer, target, "unknown_step", f"step {step.name!r} goes to {target!r}, which is not a step"
                    )
                )
        if isinstance(step, JoinStep):
            split_raw = raw_steps.get(step.split)
            if split_raw is None:
                self.problem(
                    (*pointer, "joins"), "unknown_step", f"join {step.name!r} joins {step.split!r}, which is not a step"
                )
            elif not isinstance(split_raw, dict) or split_raw.get("kind") != "parallel":
                self.problem((*pointer, "joins"), "invalid_join", f"join {step.name!r} must join a parallel step")
        for person_key, names in (
            ("same person as", (step.same_person_as,) if isinstance(step, HumanStep) and step.same_person_as else ()),
            ("not same person as", step.not_same_person_as if isinstance(step, HumanStep) else ()),
        ):
            for other in names:
                if other not in raw_steps:
                    self.problem(
                        (*pointer, person_key), "unknown_step", f"{person_key} names {other!r}, which is not a step"
                    )

    def _at_value(self, pointer: Pointer, value: str, code: str, message: str) -> Problem:
        """Locate a problem at the place under ``pointer`` where ``value`` was written."""
        assert self.document is not None
        best: tuple[int, int] | None = None
        for mark_pointer, mark in self.document.marks.items():
            inside = mark_pointer[: len(pointer)] == pointer
            if inside and _value_at(self.document.data, mark_pointer) == value and (best is None or mark < best):
                best = mark
        if best is None:
            return self.document.problem(pointer, code, message)
        return Problem(self.document.path, best[0], best[1], code, message)

    def read_step(self, pointer: Pointer, name: str, raw: object, decision_tables: Mapping[str, Any]) -> Step | None:
        if not NAME.fullmatch(name):
            self.problem(pointer, "invalid_name", f"step {name!r} must be a snake_case name")
        if not isinstance(raw, dict):
            self.problem(pointer, "invalid_type", f"step {name!r} must be a mapping of keys to values")
            return None
        kind = raw.get("kind")
        if kind not in STEP_KINDS:
            self.problem(
                (*pointer, "kind"), "unknown_kind", f"kind {kind!r} is not one of: {', '.join(sorted(STEP_KINDS))}"
            )
            return None
        needs_title = kind in ("task", "approval", "request information")
        title = self.text((*pointer, "title"), raw.get("title"), required=needs_title) or EMPTY_TEXT
        status = self.text((*pointer, "status"), raw.get("status"), required=False)
        where = self.where(pointer)
        base = {"name": name, "kind": kind, "title": title, "status": status, "where": where}
        reader = getattr(self, "step_" + kind.replace(" ", "_"))
        step: Step | None = reader(pointer, raw, base, decision_tables)
        return step

    # -- one reader per kind ----------------------------------------------------------

    def routes(self, pointer: Pointer, value: object, *, need_default: bool) -> tuple[Route, ...]:
        if isinstance(value, str):
            return (Route(to=value, where=self.where(pointer)),)
        if not isinstance(value, list) or not value:
            self.problem(pointer, "invalid_routes", "give a step name, or a list of {when: condition, to: step}")
            return ()
        routes: list[Route] = []
        for index, item in enumerate(value):
            where: Pointer = (*pointer, index)
            if isinstance(item, str):
                item = {"to": item}
            if not isinstance(item, dict):
                self.problem(where, "invalid_routes", "each route is {when: condition, to: step}")
                continue
            self.known_keys(where, item, {"when", "to"})
            target = self.target((*where, "to"), item.get("to"))
            condition = self.expression((*where, "when"), item.get("when")) if "when" in item else None
            if target is not None:
                routes.append(Route(to=target, when=condition, where=self.where(where)))
            if need_default and "when" not in item and index != len(value) - 1:
                self.problem(where, "unreachable_route", "a route without 'when' catches everything; put it last")
        if need_default and routes and routes[-1].when is not None:
            self.problem(
                pointer,
                "no_default_route",
                "the last route must have no 'when', so that every case has somewhere to go",
            )
        return tuple(routes)

    def human(
        self, pointer: Pointer, raw: Mapping[str, Any], base: dict[str, Any], *, in_each: bool
    ) -> HumanStep | None:
        self.known_keys(pointer, raw, COMMON_KEYS | HUMAN_KEYS)
        raw_levels = raw.get("levels", [])
        if not isinstance(raw_levels, list):
            self.problem(
                (*pointer, "levels"), "invalid_type", "levels lists one role per level, e.g. [clerk, supervisor]"
            )
            raw_levels = []
        levels = tuple(self.role((*pointer, "levels", i), role) or "" for i, role in enumerate(raw_levels))
        role = self.role((*pointer, "role"), raw.get("role", levels[0] if levels else None))
        outcomes: dict[str, tuple[Route, ...]] = {}
        raw_outcomes = raw.get("outcomes")
        if in_each and isinstance(raw_outcomes, list):
            # Outcomes are recorded, not routed; anything but a name is reported below as invalid_name.
            raw_outcomes = {outcome if isinstance(outcome, str) else repr(outcome): [] for outcome in raw_outcomes}
        if not isinstance(raw_outcomes, dict) or not raw_outcomes:
            self.problem(
                (*pointer, "outcomes"),
                "missing_key",
                f"step {base['name']!r} needs outcomes, e.g. approve: next_step"
                if not in_each
                else "list the outcomes",
            )
            raw_outcomes = {}
        for outcome, value in raw_outcomes.items():
            if self.name_value((*pointer, "outcomes", outcome), outcome, "an outcome"):
                outcomes[outcome] = (
                    () if in_each else self.routes((*pointer, "outcomes", outcome), value, need_default=True)
                )
        if (levels or raw.get("panel")) and not {"approve", "deny"} <= set(outcomes):
            self.problem(
                (*pointer, "outcomes"), "missing_outcome", "chains and panels decide approve or deny: give both"
            )
        panel = None
        if "panel" in raw:
            spec = raw["panel"]
            size = spec.get("size") if isinstance(spec, dict) else None
            quorum = spec.get("quorum", "all") if isinstance(spec, dict) else None
            if not _whole(size) or size < 2:
                self.problem((*pointer, "panel"), "invalid_panel", "a panel has size: 2 or more seats")
            elif not (quorum in ("all", "first") or (_whole(quorum) and 1 <= quorum <= size)):
                self.problem(
                    (*pointer, "panel"), "invalid_panel", f"quorum is all, first, or a number from 1 to {size}"
                )
            else:
                panel = Panel(size=size, quorum=quorum)
        assign = raw.get("assign")
        assign_to = None
        if isinstance(assign, dict):
            self.known_keys((*pointer, "assign"), assign, {"from"})
            assign_to = self.expression((*pointer, "assign", "from"), assign.get("from"))
            assign = None
        elif assign is not None and assign not in ASSIGN_STRATEGIES:
            self.problem(
                (*pointer, "assign"), "invalid_value", "assign is 'round robin', 'least loaded' or {from: expression}"
            )
            assign = None
        form = raw.get("form")
        if form is not None and (not isinstance(form, str) or form not in self.files):
            self.problem((*pointer, "form"), "unknown_file", f"form {form!r} is not a file of this program")
        same = raw.get("same person as")
        on_overdue = raw.get("on overdue")
        if role is None:
            return None
        return HumanStep(
            **base,
            role=role,
            outcomes=MappingProxyType(outcomes),
            queue=self.expression((*pointer, "queue"), raw.get("queue")),
            assign=assign,
            assign_to=assign_to,
            same_person_as=same if isinstance(same, str) else None,
            not_same_person_as=self.names((*pointer, "not same person as"), raw.get("not same person as")),
            form=form if isinstance(form, str) else None,
            due=self.duration((*pointer, "due"), raw.get("due")),
            on_overdue=on_overdue if isinstance(on_overdue, str) else None,
            levels=tuple(level for level in levels if level),
            panel=panel,
        )

    def step_task(self, pointer: Pointer, raw: Mapping[str, Any], base: dict[str, Any], _: Any) -> Step | None:
        return self.human(pointer, raw, base, in_each=False)

    step_approval = step_task

    def assignments(self, pointer: Pointer, raw: object) -> tuple[tuple[str, Compiled], ...]:
        if raw is None:
            return ()
        if not isinstance(raw, dict):
            self.problem(pointer, "invalid_type", "give field: expression pairs")
            return ()
        found = []
        for field, source in raw.items():
            if self.name_value((*pointer, field), field, "a data field"):
                compiled = self.expression((*pointer, field), source)
                if compiled is not None:
                    found.append((field, compiled))
        return tuple(found)

    def step_decide(self, pointer: Pointer, raw: Mapping[str, Any], base: dict[str, Any], tables_: Any) -> Step | None:
        self.known_keys(pointer, raw, COMMON_KEYS | {"compute", "table", "routes", "next"})
        table = raw.get("table")
        if table is not None and (not isinstance(table, str) or table not in tables_):
            self.problem((*pointer, "table"), "unknown_table", f"table {table!r} is not in tables/")
        if "routes" in raw and "next" in raw:
            self.problem(pointer, "invalid_routes", "give routes or next, not both")
        routes = self.routes(
            (*pointer, "routes") if "routes" in raw else (*pointer, "next"),
            raw.get("routes", raw.get("next")),
            need_default=True,
        )
        return DecideStep(
            **base,
            compute=self.assignments((*pointer, "compute"), raw.get("compute")),
            table=table if isinstance(table, str) else None,
            routes=routes,
        )

    def step_action(self, pointer: Pointer, raw: Mapping[str, Any], base: dict[str, Any], _: Any) -> Step | None:
        self.known_keys(pointer, raw, COMMON_KEYS | {"set", "extend clock", "raise priority", "next"})
        priority = raw.get("raise priority")
        if priority is not None and priority not in ("high", "urgent"):
            self.problem((*pointer, "raise priority"), "invalid_value", "raise priority is high or urgent")
            priority = None
        extend = raw.get("extend clock")
        extension = None
        if extend is not None:
            if not isinstance(extend, dict) or len(extend) != 1:
                self.problem((*pointer, "extend clock"), "invalid_type", "extend clock: {clock name: duration}")
            else:
                ((clock, duration_text),) = extend.items()
                duration = self.duration((*pointer, "extend clock", clock), duration_text)
                extension = (clock, duration) if duration is not None else None
        target = self.target((*pointer, "next"), raw.get("next"))
        if target is None:
            return None
        return ActionStep(
            **base,
            set=self.assignments((*pointer, "set"), raw.get("set")),
            extend_clock=extension,
            next=target,
            raise_priority=priority,
        )

    def step_notice(self, pointer: Pointer, raw: Mapping[str, Any], base: dict[str, Any], _: Any) -> Step | None:
        self.known_keys(pointer, raw, COMMON_KEYS | {"notice", "to", "next"})
        notice = self.name_value((*pointer, "notice"), raw.get("notice"), "a notice name")
        to = raw.get("to", "citizen")
        if to != "citizen":
            self.role((*pointer, "to"), to)
        target = self.target((*pointer, "next"), raw.get("next"))
        if notice is None or target is None:
            return None
        return NoticeStep(**base, notice=notice, to=str(to), next=target)

    def step_parallel(self, pointer: Pointer, raw: Mapping[str, Any], base: dict[str, Any], _: Any) -> Step | None:
        self.known_keys(pointer, raw, COMMON_KEYS | {"branches"})
        branches = self.routes((*pointer, "branches"), raw.get("branches"), need_default=False)
        if len(branches) < 2:
            self.problem((*pointer, "branches"), "invalid_routes", "a parallel step starts two or more branches")
        return ParallelStep(**base, branches=branches)

    def step_join(self, pointer: Pointer, raw: Mapping[str, Any], base: dict[str, Any], _: Any) -> Step | None:
        self.known_keys(pointer, raw, COMMON_KEYS | {"joins", "wait for", "cancel rest", "block", "next"})
        wait_for = raw.get("wait for", "all")
        if not (wait_for in ("all", "first") or (_whole(wait_for) and wait_for >= 1)):
            self.problem((*pointer, "wait for"), "invalid_value", "wait for is all, first, or a number of branches")
            wait_for = "all"
        split = raw.get("joins")
        target = self.target((*pointer, "next"), raw.get("next"))
        if not isinstance(split, str):
            self.problem((*pointer, "joins"), "missing_key", "a join names the parallel step it joins: joins: <step>")
            return None
        if target is None:
            return None
        return JoinStep(
            **base,
            split=split,
            wait_for=wait_for,
            cancel_rest=bool(raw.get("cancel rest", False)),
            block=bool(raw.get("block", False)),
            next=target,
        )

    def step_each(self, pointer: Pointer, raw: Mapping[str, Any], base: dict[str, Any], _: Any) -> Step | None:
        self.known_keys(pointer, raw, COMMON_KEYS | {"over", "count", "as", "task", "wait for", "results", "next"})
        if ("over" in raw) == ("count" in raw):
            self.problem(pointer, "invalid_each", "give either over: <list in the case data> or count: <number>")
        count = raw.get("count")
        if count is not None and (not _whole(count) or count < 1):
            self.problem((*pointer, "count"), "invalid_value", "count is a whole number of tasks, 1 or more")
            count = None
        item_name = self.name_value((*pointer, "as"), raw.get("as", "item"), "the item's name")
        wait_for = raw.get("wait for", "all")
        if not (wait_for in ("all", "none") or (_whole(wait_for) and wait_for >= 1)):
            self.problem((*pointer, "wait for"), "invalid_value", "wait for is all, none, or a number of tasks")
            wait_for = "all"
        task_raw = raw.get("task")
        task = None
        if not isinstance(task_raw, dict):
            self.problem(
                (*pointer, "task"), "missing_key", "each needs the task to open per item: task: {title, role, outcomes}"
            )
        else:
            task_title = self.text((*pointer, "task", "title"), task_raw.get("title"), required=True) or EMPTY_TEXT
            task_base = {
                "name": base["name"],
                "kind": "task",
                "title": task_title,
                "status": None,
                "where": base["where"],
            }
            task = self.human((*pointer, "task"), task_raw, task_base, in_each=True)
        results = self.name_value((*pointer, "results"), raw.get("results", base["name"]), "the results field")
        target = self.target((*pointer, "next"), raw.get("next"))
        if task is None or target is None or item_name is None or results is None:
            return None
        return EachStep(
            **base,
            over=self.expression((*pointer, "over"), raw.get("over")),
            count=count,
            item_name=item_name,
            task=task,
            wait_for=wait_for,
            results=results,
            next=target,
        )

    def trigger(self, pointer: Pointer, spec: Mapping[str, Any], target: object, target_key: str) -> Trigger | None:
        to = self.target((*pointer, target_key), target)
        if to is None:
            return None
        if "after" in spec or "for" in spec:
            key = "after" if "after" in spec else "for"
            duration = self.duration((*pointer, key), spec[key], required=True)
            return Trigger("after", to, duration=duration) if duration is not None else None
        if "until" in spec:
            until = self.expression((*pointer, "until"), spec["until"])
            return Trigger("until", to, until=until) if until is not None else None
        if "event" in spec:
            event = self.name_value((*pointer, "event"), spec["event"], "an event name")
            return Trigger("event", to, event=event) if event is not None else None
        self.problem(pointer, "invalid_wait", "wait for a time (for: 10 days / until: a date) or an event: name")
        return None

    def step_wait(self, pointer: Pointer, raw: Mapping[str, Any], base: dict[str, Any], _: Any) -> Step | None:
        self.known_keys(pointer, raw, COMMON_KEYS | {"for", "until", "event", "next", "any of"})
        triggers: list[Trigger] = []
        if "any of" in raw:
            options = raw["any of"]
            if not isinstance(options, list) or len(options) < 2:
                self.problem((*pointer, "any of"), "invalid_wait", "any of lists two or more {after|until|event, to}")
                return None
            for index, option in enumerate(options):
                if not isinstance(option, dict):
                    self.problem((*pointer, "any of", index), "invalid_wait", "each option is {after|until|event, to}")
                    continue
                self.known_keys((*pointer, "any of", index), option, {"after", "until", "event", "to"})
                found = self.trigger((*pointer, "any of", index), option, option.get("to"), "to")
                if found is not None:
                    triggers.append(found)
        else:
            found = self.trigger(pointer, raw, raw.get("next"), "next")
            if found is not None:
                triggers.append(found)
        if not triggers:
            return None
        return WaitStep(**base, triggers=tuple(triggers))

    def step_request_information(
        self, pointer: Pointer, raw: Mapping[str, Any], base: dict[str, Any], _: Any
    ) -> Step | None:
        self.known_keys(
            pointer,
            raw,
            COMMON_KEYS
            | {
                "notice",
                "answer form",
                "remind after",
                "reminder notice",
                "expires after",
                "on answer",
                "on expiry",
                "pause clocks",
            },
        )
        notice = self.name_value((*pointer, "notice"), raw.get("notice"), "a notice name")
        form = raw.get("answer form")
        if form is not None and (not isinstance(form, str) or form not in self.files):
            self.problem(
                (*pointer, "answer form"), "unknown_file", f"answer form {form!r} is not a file of this program"
            )
        expires = self.duration((*pointer, "expires after"), raw.get("expires after"), required=True)
        on_answer = self.target((*pointer, "on answer"), raw.get("on answer"))
        on_expiry = self.target((*pointer, "on expiry"), raw.get("on expiry"))
        reminder = raw.get("reminder notice")
        if notice is None or expires is None or on_answer is None or on_expiry is None:
            return None
        return RequestStep(
            **base,
            notice=notice,
            answer_form=form if isinstance(form, str) else None,
            remind_after=self.duration((*pointer, "remind after"), raw.get("remind after")),
            reminder_notice=reminder if isinstance(reminder, str) else None,
            expires_after=expires,
            on_answer=on_answer,
            on_expiry=on_expiry,
            pauses_clocks=bool(raw.get("pause clocks", True)),
        )

    def step_subworkflow(self, pointer: Pointer, raw: Mapping[str, Any], base: dict[str, Any], _: Any) -> Step | None:
        self.known_keys(pointer, raw, COMMON_KEYS | {"run", "outcomes"})
        run = self.name_value((*pointer, "run"), raw.get("run"), "a sub-workflow name")
        outcomes = raw.get("outcomes")
        if not isinstance(outcomes, dict) or not outcomes:
            self.problem((*pointer, "outcomes"), "missing_key", "map each outcome of the sub-workflow to a next step")
            return None
        if run is None:
            return None
        return SubworkflowStep(
            **base, run=run, outcomes=MappingProxyType({str(k): str(v) for k, v in outcomes.items()})
        )

    def step_end(self, pointer: Pointer, raw: Mapping[str, Any], base: dict[str, Any], _: Any) -> Step | None:
        self.known_keys(pointer, raw, COMMON_KEYS | {"outcome", "notice"})
        outcome = self.name_value((*pointer, "outcome"), raw.get("outcome"), "an end step's outcome")
        notice = raw.get("notice")
        if outcome is None:
            return None
        return EndStep(**base, outcome=outcome, notice=notice if isinstance(notice, str) else None)

    def step_finish(self, pointer: Pointer, raw: Mapping[str, Any], base: dict[str, Any], _: Any) -> Step | None:
        self.known_keys(pointer, raw, COMMON_KEYS)
        return FinishStep(**base)


def _counted(limit: Any, other: Any) -> str:
    """Why ``other`` cannot go with a clock of ``limit``: they count time differently."""
    kind = "business days" if limit.in_business_days else "calendar time (minutes to years)"
    return f"counts in {kind}, so write {other} in {kind} too"


def _value_at(data: Any, pointer: Pointer) -> Any:
    for part in pointer:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _whole(value: object) -> TypeGuard[int]:
    """A whole number written as one (YAML's true is not 1)."""
    return isinstance(value, int) and not isinstance(value, bool)
