"""Privacy in the case runtime: masked answers, revealing them, and when a closed case's data goes.

* **Masking.** An answer tagged ``x-sensitive`` in a form schema (or inside a group so tagged)
  is shown masked on every staff read path: the task page, the answers to requests for
  information, the admin. One set of helpers does it for all of them: ``mask_answers`` for
  answers as data, ``summary`` for the check-answers rows a page draws. The applicant always
  sees their own answers; nothing here is used on their pages.
* **Revealing.** Staff holding a role the program lists in ``privacy: sensitive fields seen by``
  (``may_reveal``) get a "Show" button; ``services.answers_reveal`` logs the reveal, and the
  session remembers it for ``REVEAL_MINUTES`` so the page can show the answer.
* **Retention.** ``retention_ends`` says when a closed case's personal data is due to go
  (``retention: closed cases``, read from the case's own version); ``purges_due`` lists the
  cases past it. ``services.case_purge`` removes the data.

Masking never changes stored data: it works on copies, for display.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.sessions.backends.base import SessionBase
from django.utils.translation import gettext

import engine
from engine.model import RequestStep
from engine.runtime import value_at
from forms.tree import FieldNode, FormTree
from workflows import programs, wizard
from workflows.models import AccessLog, Case, DefinitionVersion
from workflows.roles import ALL_AGENCIES, Actor, grants_of

MASK = "••••"
SENSITIVE = "x-sensitive"

VIEWED = "viewed"
DOWNLOADED = "downloaded"
REVEALED = "revealed"
ACTIONS = (VIEWED, DOWNLOADED, REVEALED)
"""What an access-log row records: a case page opened, a file downloaded, a masked answer revealed."""

AUDITOR_ROLE = "auditor"
"""Staff holding this role read the access log (on the task page, in the admin)."""

REVEAL_MINUTES = 10
"""How long a revealed answer stays shown in the browser session that revealed it."""

_SESSION_KEY = "civicflow_revealed"
_MAX_DEPTH = 32
_ID_LIKE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ./-]{7,39}")
_DATE_LIKE = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}")
_NOT_FREE_TEXT = ("format", "enum", "const", "oneOf", "x-accept")


# ------------------------------------------------------------------ which answers are sensitive


def sensitive_root(schema: Mapping[str, Any], path: str) -> str | None:
    """The outermost answer path at or above dotted ``path`` that the schema tags ``x-sensitive``.

    ``children.0.name`` gives ``children`` when the whole list is tagged, ``children.0.name``
    when only the name is, and None when nothing on the way is. That path is what is
    revealed as one: a tagged group shows or hides as a whole.
    """
    nodes = _applicable(schema, schema)
    whole_form = _tagged(nodes)
    parts = path.split(".") if path else []
    for index, part in enumerate(parts):
        nodes = _below(schema, nodes, part)
        if whole_form or _tagged(nodes):
            return ".".join(parts[: index + 1])
    return None


def _applicable(root: Mapping[str, Any], node: object, depth: int = 0) -> list[Mapping[str, Any]]:
    """``node`` and every subschema that also applies at its place (local ``$ref``, ``allOf``/
    ``anyOf``/``oneOf``, ``then``/``else``, ``dependentSchemas``): a tag on any of them counts."""
    if not isinstance(node, Mapping) or depth > _MAX_DEPTH:
        return []
    found: list[Mapping[str, Any]] = [node]
    ref = node.get("$ref")
    if isinstance(ref, str):
        found += _applicable(root, _local(root, ref), depth + 1)
    for key in ("allOf", "anyOf", "oneOf"):
        parts = node.get(key)
        if isinstance(parts, list):
            for part in parts:
                found += _applicable(root, part, depth + 1)
    for key in ("then", "else"):
        found += _applicable(root, node.get(key), depth + 1)
    dependent = node.get("dependentSchemas")
    if isinstance(dependent, Mapping):
        for part in dependent.values():
            found += _applicable(root, part, depth + 1)
    return found


def _local(root: Mapping[str, Any], ref: str) -> object:
    """The subschema a local ``$ref`` (``#/$defs/person``) names; None for any other ref."""
    if not ref.startswith("#"):
        return None
    node: object = root
    for token in ref[1:].split("/")[1:] if ref != "#" else []:
        key = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping):
            node = node.get(key)
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return None
    return node


def _below(root: Mapping[str, Any], nodes: Iterable[Mapping[str, Any]], part: str) -> list[Mapping[str, Any]]:
    """The subschemas for the answer ``part`` (a property name, or a list index) below ``nodes``."""
    found: list[Mapping[str, Any]] = []
    for node in nodes:
        properties = node.get("properties")
        if isinstance(properties, Mapping) and part in properties:
            found += _applicable(root, properties[part])
        elif isinstance(node.get("additionalProperties"), Mapping):
            found += _applicable(root, node["additionalProperties"])
        if part.isdigit():
            prefix = node.get("prefixItems")
            if isinstance(prefix, list) and int(part) < len(prefix):
                found += _applicable(root, prefix[int(part)])
            elif isinstance(node.get("items"), Mapping):
                found += _applicable(root, node["items"])
    return found


def _tagged(nodes: Iterable[Mapping[str, Any]]) -> bool:
    return any(node.get(SENSITIVE) is True for node in nodes)


def _free_text(nodes: Sequence[Mapping[str, Any]]) -> bool:
    """Plain text (no date, e-mail, choice or file): an identifier may keep its last 4 characters."""
    kinds: set[str] = set()
    for node in nodes:
        if any(key in node for key in _NOT_FREE_TEXT):
            return False
        written = node.get("type")
        kinds |= {written} if isinstance(written, str) else set(written) if isinstance(written, list) else set()
    return kinds - {"null"} == {"string"}


# ------------------------------------------------------------------ masking


def masked_text(value: str, *, keep_end: bool = False) -> str:
    """What a reader without the right sees instead of an answer: never the whole value.

    An identifier (8 to 40 letters, digits and separators, at least 6 of them digits, not a
    date) keeps its last 4 letters or digits when ``keep_end``, the way a card or a national
    identity number is usually checked: ``•••• 6789``. Anything else is ``•••• hidden``.
    """
    if keep_end and _ID_LIKE.fullmatch(value) and not _DATE_LIKE.search(value):
        characters = [character for character in value if character.isalnum()]
        if sum(character.isdigit() for character in characters) >= 6:
            return f"{MASK} {''.join(characters[-4:])}"
    return f"{MASK} {gettext('hidden')}"


def mask_answers(
    schema: Mapping[str, Any], data: Mapping[str, Any], *, revealed: Collection[str] = (), prefix: str = ""
) -> dict[str, Any]:
    """A copy of the answers with every ``x-sensitive`` one masked, except those in ``revealed``.

    ``revealed`` holds answer paths as ``sensitive_root`` gives them, each after ``prefix``
    (``request_proof.`` for the answers to a request for information). A masked group keeps
    its shape, each value in it masked; an empty answer stays empty.
    """
    nodes = _applicable(schema, schema)
    whole_form = _tagged(nodes)
    return {
        key: _mask(schema, _below(schema, nodes, key), value, f"{prefix}{key}", revealed, whole_form)
        for key, value in data.items()
    }


def _mask(
    schema: Mapping[str, Any],
    nodes: list[Mapping[str, Any]],
    value: Any,
    path: str,
    revealed: Collection[str],
    tagged_above: bool,
) -> Any:
    if tagged_above or _tagged(nodes):
        return value if path in revealed else _blank(schema, nodes, value)
    if isinstance(value, Mapping):
        return {
            key: _mask(schema, _below(schema, nodes, key), item, f"{path}.{key}", revealed, False)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [
            _mask(schema, _below(schema, nodes, str(index)), item, f"{path}.{index}", revealed, False)
            for index, item in enumerate(value)
        ]
    return value


def _blank(schema: Mapping[str, Any], nodes: list[Mapping[str, Any]], value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return {key: _blank(schema, _below(schema, nodes, key), item) for key, item in value.items()}
    if isinstance(value, list):
        return [_blank(schema, _below(schema, nodes, str(index)), item) for index, item in enumerate(value)]
    if isinstance(value, str):
        return masked_text(value, keep_end=_free_text(nodes))
    return masked_text("")


def summary(
    schema: Mapping[str, Any],
    tree: FormTree,
    data: Mapping[str, Any],
    *,
    uploads: Mapping[str, str],
    not_provided: str,
    revealed: Collection[str] = (),
    prefix: str = "",
) -> list[wizard.Section]:
    """The check-answers rows of ``data`` for staff, ``x-sensitive`` answers masked unless revealed.

    ``tree`` is drawn from the real answers (which questions show depends on them); its
    sensitive values are masked here. Each row lists in ``hidden`` the masked answers it holds
    that have a value, for a "Show" button where the reader may reveal them.
    """
    pages = tuple(
        replace(page, fields=tuple(_mask_field(schema, field, revealed, prefix) for field in page.fields))
        for page in tree.pages
    )
    hidden: dict[str, tuple[str, ...]] = {}
    for page in tree.pages:
        for field in page.fields:
            hidden[field.html_id] = _masked_roots(schema, field, data, revealed, prefix)
            if field.widget == "repeat":
                for item in field.children:
                    hidden[item.html_id] = _masked_roots(schema, item, data, revealed, prefix)
    masked = mask_answers(schema, data, revealed=revealed, prefix=prefix)
    sections = wizard.summary(replace(tree, pages=pages), uploads, not_provided, masked)
    return [
        replace(section, rows=tuple(replace(row, hidden=hidden.get(row.anchor, ())) for row in section.rows))
        for section in sections
    ]


def _mask_field(schema: Mapping[str, Any], field: FieldNode, revealed: Collection[str], prefix: str) -> FieldNode:
    root = sensitive_root(schema, field.name)
    if root is not None:
        return field if prefix + root in revealed else _blank_field(schema, field)
    if field.children:
        return replace(field, children=tuple(_mask_field(schema, child, revealed, prefix) for child in field.children))
    return field


def _blank_field(schema: Mapping[str, Any], field: FieldNode) -> FieldNode:
    nodes = _nodes_at(schema, field.name)
    return replace(
        field,
        value=masked_text(field.value, keep_end=_free_text(nodes)) if field.value else "",
        selected=(masked_text(""),) if field.selected else (),
        children=tuple(_blank_field(schema, child) for child in field.children),
    )


def _nodes_at(schema: Mapping[str, Any], path: str) -> list[Mapping[str, Any]]:
    nodes = _applicable(schema, schema)
    for part in path.split(".") if path else []:
        nodes = _below(schema, nodes, part)
    return nodes


def _masked_roots(
    schema: Mapping[str, Any], field: FieldNode, data: Mapping[str, Any], revealed: Collection[str], prefix: str
) -> tuple[str, ...]:
    root = sensitive_root(schema, field.name)
    if root is not None:
        shown = prefix + root in revealed
        return () if shown or _is_blank(value_at(data, root)) else (prefix + root,)
    found: dict[str, None] = {}
    for child in field.children:
        found.update(dict.fromkeys(_masked_roots(schema, child, data, revealed, prefix)))
    return tuple(found)


def _is_blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


# ------------------------------------------------------------------ a case's answers, all forms


@dataclass(frozen=True)
class AnswerSchemas:
    """The schemas a case's answers follow: the application form, and each request's answer form."""

    form: Mapping[str, Any]
    requests: Mapping[str, Mapping[str, Any]]  # request step name -> its answer form's schema

    def root_of(self, path: str) -> str | None:
        """``sensitive_root`` of a case answer path; a request's answers start with the step's name."""
        head, _, rest = path.partition(".")
        if head in self.requests:
            root = sensitive_root(self.requests[head], rest) if rest else None
            return f"{head}.{root}" if root is not None else None
        return sensitive_root(self.form, path)

    def value(self, case: Case, path: str) -> Any:
        """The answer at ``path``: the application's, or an answer given to a request."""
        head = path.partition(".")[0]
        if head in self.requests:
            return value_at(case.state.get("data") or {}, path)
        return value_at(case.data, path)

    def mask_state_data(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """The engine's case data (answers, request answers, computed values) with sensitive ones masked."""
        masked = mask_answers(self.form, {key: value for key, value in data.items() if key not in self.requests})
        for step, schema in self.requests.items():
            answer = data.get(step)
            if isinstance(answer, Mapping):
                masked[step] = mask_answers(schema, answer, prefix=f"{step}.")
            elif step in data:
                masked[step] = answer
        return {key: masked[key] for key in data}


_SCHEMAS: dict[str, AnswerSchemas] = {}


def schemas_of(version: DefinitionVersion) -> AnswerSchemas:
    """The answer schemas of a stored version (cached: versions never change)."""
    found = _SCHEMAS.get(version.content_hash)
    if found is None:
        definition = programs.definition_of(version)
        requests: dict[str, Mapping[str, Any]] = {}
        for flow in definition.flows.values():
            for step in flow.steps.values():
                if isinstance(step, RequestStep) and step.answer_form and step.answer_form in version.files:
                    requests[step.name] = json.loads(version.files[step.answer_form])
        found = AnswerSchemas(definition.form_schema, requests)
        if len(_SCHEMAS) >= 256:
            _SCHEMAS.pop(next(iter(_SCHEMAS)))
        _SCHEMAS[version.content_hash] = found
    return found


def may_reveal(user: Actor, definition: engine.Definition) -> bool:
    """Does ``user`` hold, for the program's agency, a role the program lets see sensitive answers
    (``sensitive fields seen by``)?"""
    seen_by = set(definition.program.privacy.sensitive_fields_seen_by)
    agency = definition.program.agency
    return any(grant.role in seen_by and grant.covers_agency(agency) for grant in grants_of(user))


def audited_agencies(user: Actor) -> frozenset[str]:
    """The agencies whose case histories and access logs the user audits (``*``: every agency)."""
    return frozenset(grant.agency for grant in grants_of(user) if grant.role == AUDITOR_ROLE)


def is_auditor(user: Actor, *, agency: str | None = None) -> bool:
    """Is the user an auditor for ``agency`` (of any agency when None)?"""
    audited = audited_agencies(user)
    return bool(audited) and (agency is None or agency in audited or ALL_AGENCIES in audited)


def sensitive_upload(case: Case, field: str) -> bool:
    """Was the file uploaded for an ``x-sensitive`` answer? (Staff documents have no field.)"""
    return bool(field) and schemas_of(case.version).root_of(field) is not None


ACCESS_LOG_SHOWN = 50
"""How many of a case's latest access-log rows the task page lists for auditors."""


def access_log_of(case: Case, *, limit: int = ACCESS_LOG_SHOWN) -> list[AccessLog]:
    """Who opened the case, its files and its hidden answers, newest first (for auditors)."""
    return list(case.access_log.select_related("user").order_by("-at", "-pk")[:limit])


# ------------------------------------------------------------------ what this browser revealed


def remember_revealed(session: SessionBase, case_id: int, paths: Iterable[str], now: datetime) -> None:
    """Keep revealed answers shown in this session for ``REVEAL_MINUTES``; expired entries are dropped."""
    until = (now + timedelta(minutes=REVEAL_MINUTES)).isoformat()
    kept: dict[str, dict[str, str]] = {}
    for case, entries in _stored(session).items():
        alive = {path: at for path, at in entries.items() if _still(at, now)}
        if alive:
            kept[case] = alive
    kept.setdefault(str(case_id), {}).update(dict.fromkeys(paths, until))
    session[_SESSION_KEY] = kept


def revealed_in(session: SessionBase, case_id: int, now: datetime) -> frozenset[str]:
    """The answers of the case this session revealed in the last ``REVEAL_MINUTES``."""
    entries = _stored(session).get(str(case_id), {})
    return frozenset(path for path, until in entries.items() if _still(until, now))


def _stored(session: SessionBase) -> dict[str, dict[str, str]]:
    stored = session.get(_SESSION_KEY)
    if not isinstance(stored, dict):
        return {}
    return {
        str(case): {str(path): str(at) for path, at in entries.items()}
        for case, entries in stored.items()
        if isinstance(entries, dict)
    }


def _still(until: str, now: datetime) -> bool:
    try:
        return datetime.fromisoformat(until) > now
    except ValueError:
        return False


# ------------------------------------------------------------------ retention


_FEWEST_DAYS = {"day": 1, "week": 7, "month": 28, "year": 365}
"""The fewest days one unit can last: a cheap first cut before the exact calendar sum."""


def retention_ends(definition: engine.Definition, closed_at: datetime) -> datetime | None:
    """When a case of this version that closed at ``closed_at`` is due for the purge; None: kept indefinitely.

    ``closed cases: 7 years`` counts calendar time in the program's time zone: 7 years after
    15 March 2019 14:00 is 15 March 2026 14:00 there (29 February goes to 28 February).
    """
    duration = definition.program.retention.closed_cases
    if duration is None:
        return None
    try:
        ends: datetime = definition.calendar.add(closed_at, duration, ZoneInfo(definition.program.timezone))
    except OverflowError:
        return None
    return ends


@dataclass(frozen=True)
class DuePurge:
    """A closed case whose retention has run out and whose personal data is still there."""

    case_id: int
    reference: str
    program: str
    closed_at: datetime
    due_at: datetime
    kept_for: str  # the policy, as words: "7 years"


def purges_due(*, now: datetime, program: str | None = None) -> list[DuePurge]:
    """The closed, not yet purged cases past their version's ``retention: closed cases``, oldest first."""
    closed = Case.objects.filter(status=Case.Status.CLOSED, purged_at__isnull=True, closed_at__isnull=False)
    if program is not None:
        closed = closed.filter(program__slug=program)
    version_ids = set(closed.values_list("version_id", flat=True).distinct())
    found: list[DuePurge] = []
    for version in DefinitionVersion.objects.filter(pk__in=version_ids).select_related("program"):
        definition = programs.definition_of(version)
        duration = definition.program.retention.closed_cases
        if duration is None:
            continue
        cutoff = now - timedelta(days=_FEWEST_DAYS[duration.unit] * duration.amount - 1)
        candidates = closed.filter(version=version, closed_at__lte=cutoff).only("pk", "reference", "closed_at")
        for case in candidates.order_by("closed_at", "pk").iterator():
            assert case.closed_at is not None  # filtered above
            due = retention_ends(definition, case.closed_at)
            if due is not None and due <= now:
                found.append(
                    DuePurge(case.pk, case.reference, version.program.slug, case.closed_at, due, str(duration))
                )
    return sorted(found, key=lambda due: (due.closed_at, due.reference))
