"""The multi-page form, as pure functions over a program's form and a draft's answers.

Views ask this module three things: what a page looks like (the ``forms`` widget tree, with
every message already naming its question), what a posted page means as answers (typed as the
schema wants, so validation can speak about them), and where to go next. No Django models
here, only ``QueryDict``-shaped input, so each rule can be tested on its own.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import forms
from engine.expressions import Evaluator
from engine.runtime import value_at
from forms.tree import FieldNode, FormTree, PageNode
from forms.ui import UiField, UiSchema, check_errors, schema_at, visible_fields, visible_pages

_EVALUATOR = Evaluator()
_MONEY_NOISE = re.compile(r"[\s$,]")
_INDEX = re.compile(r"^(\d+)\.")
_LARGEST_DIGITS = 15  # beyond this, typed digits are kept as text rather than made a number


class Posted(Protocol):
    """What the wizard reads from a request: Django's ``QueryDict`` fits."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def getlist(self, key: str) -> list[Any]: ...

    def __iter__(self) -> Iterator[str]: ...


@dataclass(frozen=True)
class Form:
    """A program version's form: the JSON Schema, its checked UI schema and its validator."""

    schema: Mapping[str, Any]
    ui: UiSchema
    validator: forms.FormValidator
    timezone: str = "UTC"  # the program's: checks between answers read today's date there

    # -- reading answers --------------------------------------------------------------

    def clean(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Answers with hidden ones removed and computed ones worked out (see ``forms.clean``)."""
        return forms.clean(self.ui, self.schema, data, _EVALUATOR)

    def pages(self, data: Mapping[str, Any]) -> list[str]:
        """The ids of the pages shown for these answers, in order."""
        return visible_pages(self.ui, data, _EVALUATOR)

    def visible(self, data: Mapping[str, Any]) -> set[str]:
        return visible_fields(self.ui, data, _EVALUATOR)

    def errors(self, data: Mapping[str, Any], language: str, *, today: str | None = None) -> list[forms.FieldError]:
        """The schema's errors, then the checks between answers about questions with no error yet.

        ``today`` (``YYYY-MM-DD``) defaults to the date now in the program's time zone.
        """
        errors = self.validator.validate(dict(data), language=language)
        if not self.ui.checks:
            return errors
        when = today or datetime.now(ZoneInfo(self.timezone)).date().isoformat()
        taken = {error.pointer for error in errors}
        checked = check_errors(self.ui, data, _EVALUATOR, today=when, language=language)
        return errors + [error for error in checked if error.pointer not in taken]

    def page_errors(self, page_id: str, errors: Iterable[forms.FieldError]) -> list[forms.FieldError]:
        """The errors that belong to the questions of one page."""
        prefixes = tuple("/" + field.name.replace(".", "/") for field in self.ui.page(page_id).fields)
        return [error for error in errors if _under(error.pointer, prefixes)]

    def first_page_with_errors(self, data: Mapping[str, Any], errors: Iterable[forms.FieldError]) -> str | None:
        listed = list(errors)
        for page_id in self.pages(data):
            if self.page_errors(page_id, listed):
                return page_id
        return None

    # -- drawing ----------------------------------------------------------------------

    def tree(self, data: Mapping[str, Any], errors: Iterable[forms.FieldError], language: str, page: str) -> FormTree:
        """The widget tree for one page, each error message prefixed by its question's label."""
        tree = forms.render_tree(self.schema, self.ui, data, errors, language, page=page, evaluator=_EVALUATOR)
        pages = tuple(replace(node, fields=tuple(_labelled(field) for field in node.fields)) for node in tree.pages)
        return replace(tree, pages=pages)

    # -- navigation -------------------------------------------------------------------

    def next_page(self, data: Mapping[str, Any], current: str) -> str | None:
        shown = self.pages(data)
        if current not in shown:
            return shown[0] if shown else None
        index = shown.index(current)
        return shown[index + 1] if index + 1 < len(shown) else None

    def previous_page(self, data: Mapping[str, Any], current: str) -> str | None:
        shown = self.pages(data)
        if current not in shown:
            return None
        index = shown.index(current)
        return shown[index - 1] if index > 0 else None

    # -- posted answers ---------------------------------------------------------------

    def read_page(
        self, page_id: str, post: Posted, data: Mapping[str, Any], *, keep_blank_items: bool
    ) -> dict[str, Any]:
        """The draft's answers with this page's questions replaced by what was posted.

        A question left blank is removed (so ``required`` reports it); text that does not
        read as the number or yes/no the schema wants is kept as typed, so the citizen sees
        their own words again with a message. File questions are not read here: uploads are
        stored first and their references set by the caller. Repeating-group items left
        entirely blank are dropped unless ``keep_blank_items`` (an "Add another" press).
        """
        answers = copy.deepcopy(dict(data))
        for field in self.ui.page(page_id).fields:
            if field.widget == "file":
                continue
            node = schema_at(self.schema, field.name) or {}
            value = _read(self.schema, field, node, field.name, post, keep_blank_items=keep_blank_items)
            if value is _BLANK:
                delete(answers, field.name)
            else:
                assign(answers, field.name, value)
        return answers

    def fields_on(self, page_id: str) -> tuple[UiField, ...]:
        return self.ui.page(page_id).fields

    # -- the task list ----------------------------------------------------------------

    @property
    def task_list(self) -> bool:
        """Long forms are walked from a task list of sections instead of page after page."""
        return self.ui.navigation == "task list"

    def sections(
        self, data: Mapping[str, Any], errors: Iterable[forms.FieldError], done: Iterable[str]
    ) -> list[tuple[str, str]]:
        """Each shown page with its state: ``completed``, ``in_progress``, ``not_started``, or
        ``cannot_start`` (an earlier section is not completed yet: its answers may change
        which questions come later)."""
        listed, finished = list(errors), set(done)
        states: list[tuple[str, str]] = []
        blocked = False
        for page_id in self.pages(data):
            answered = any(value_at(data, field.name) not in (None, "", [], {}) for field in self.fields_on(page_id))
            problems = self.page_errors(page_id, listed)
            if blocked:
                state = "cannot_start"
            elif page_id in finished and not problems:
                state = "completed"
            elif answered or page_id in finished:
                state = "in_progress"
            else:
                state = "not_started"
            states.append((page_id, state))
            blocked = blocked or state != "completed"
        return states


class _Blank:
    """Nothing was answered (distinct from an answer of ``None``)."""


_BLANK: Any = _Blank()


def _read(
    schema: Mapping[str, Any],
    field: UiField,
    node: Mapping[str, Any],
    name: str,
    post: Posted,
    *,
    keep_blank_items: bool,
) -> Any:
    widget = field.widget
    if widget == "repeat":
        return _read_repeat(schema, field, node, name, post, keep_blank_items=keep_blank_items)
    if widget in ("address", "signature") and isinstance(node.get("properties"), Mapping):
        parts: dict[str, Any] = {}
        for part, part_node in node["properties"].items():
            text = _text(post.get(f"{name}.{part}"))
            if text:
                parts[part] = _typed(text, part_node if isinstance(part_node, Mapping) else {})
        return parts if parts else _BLANK
    if widget == "checkboxes":
        items = schema_at(schema, "*", within=node) or {}
        chosen = [_typed(_text(value), items) for value in post.getlist(name) if _text(value)]
        return chosen if chosen else _BLANK
    text = _text(post.get(name))
    if not text:
        return _BLANK
    if widget == "money":
        text = _MONEY_NOISE.sub("", text)
    return _typed(text, node)


def _read_repeat(
    schema: Mapping[str, Any],
    field: UiField,
    node: Mapping[str, Any],
    name: str,
    post: Posted,
    *,
    keep_blank_items: bool,
) -> Any:
    item_schema = schema_at(schema, "*", within=node) or {}
    indexes = sorted(
        {
            int(match.group(1))
            for key in post
            if key.startswith(name + ".") and (match := _INDEX.match(key[len(name) + 1 :]))
        }
    )
    items: list[dict[str, Any]] = []
    for index in indexes:
        item: dict[str, Any] = {}
        for item_field in field.items:
            sub_node = schema_at(schema, item_field.name, within=item_schema) or {}
            value = _read(
                schema, item_field, sub_node, f"{name}.{index}.{item_field.name}", post, keep_blank_items=False
            )
            if value is not _BLANK:
                assign(item, item_field.name, value)
        if item or keep_blank_items:
            items.append(item)
    return items if items else _BLANK


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _typed(text: str, node: Mapping[str, Any]) -> Any:
    """Text as the type the schema wants, or the text itself when it does not read as one."""
    kinds = node.get("type")
    kinds = {kinds} if isinstance(kinds, str) else set(kinds) if isinstance(kinds, list) else set()
    if "boolean" in kinds and text in ("true", "false"):
        return text == "true"
    if kinds & {"integer", "number"}:
        try:
            number = Decimal(text)
        except InvalidOperation:
            return text
        if not number.is_finite() or number.adjusted() > _LARGEST_DIGITS:
            return text  # validation says it is not a number we accept; nothing huge is built
        if number == number.to_integral_value() and ("integer" in kinds or "." not in text):
            return int(number)
        return float(number)
    return text


def _under(pointer: str, prefixes: tuple[str, ...]) -> bool:
    return any(pointer == prefix or pointer.startswith(prefix + "/") for prefix in prefixes)


def _labelled(field: FieldNode) -> FieldNode:
    """Each message names its question ("Full name: Answer this question."), so the error
    summary and the message beside the field say the same, self-explanatory words."""
    children = tuple(_labelled(child) for child in field.children)
    error = f"{field.label}: {field.error}" if field.error and field.widget != "item" else field.error
    return replace(field, error=error, children=children)


def field_errors(page: PageNode) -> list[FieldNode]:
    """Every field of a page with an error, in page order (for the error summary)."""
    found: list[FieldNode] = []

    def walk(node: FieldNode) -> None:
        if node.error:
            found.append(node)
        for child in node.children:
            walk(child)

    for field in page.fields:
        walk(field)
    return found


def assign(data: dict[str, Any], name: str, value: Any) -> None:
    """Set a dotted answer path (``children.0.name``), creating objects and list items on the way."""
    parts = name.split(".")
    node: Any = data
    for position, part in enumerate(parts[:-1]):
        following_is_index = parts[position + 1].isdigit()
        empty: Any = [] if following_is_index else {}
        if isinstance(node, list):
            index = int(part)
            while len(node) <= index:
                node.append({})
            if not isinstance(node[index], (dict, list)):
                node[index] = empty
            node = node[index]
        else:
            if not isinstance(node.get(part), (dict, list)):
                node[part] = empty
            node = node[part]
    last = parts[-1]
    if isinstance(node, list):
        index = int(last)
        while len(node) <= index:
            node.append({})
        node[index] = value
    else:
        node[last] = value


def delete(data: dict[str, Any], name: str) -> None:
    """Remove a dotted answer path if it is there (a list item is taken out of its list)."""
    *parents, last = name.split(".")
    node: Any = data
    for part in parents:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            return
    if isinstance(node, dict):
        node.pop(last, None)
    elif isinstance(node, list) and last.isdigit() and int(last) < len(node):
        node.pop(int(last))


# --------------------------------------------------------------------------- check answers


@dataclass(frozen=True)
class Row:
    """One answer on the check-answers page: the question, the answer as words, where to change it."""

    question: str
    answer: tuple[str, ...]
    page: str
    anchor: str
    hidden: tuple[str, ...] = ()  # answer paths this row shows masked; entitled staff may reveal them (privacy)


@dataclass(frozen=True)
class Section:
    page: str
    title: str
    rows: tuple[Row, ...]


def summary(
    tree: FormTree, uploads: Mapping[str, str], not_provided: str, data: Mapping[str, Any] | None = None
) -> list[Section]:
    """Every shown page as a section of rows, answers shown the way they were chosen.

    ``uploads`` maps an upload reference to its file name; blanks read ``not_provided``.
    ``data`` (the answers) lets a question with several files list each of them.
    """
    sections: list[Section] = []
    for page in tree.pages:
        rows: list[Row] = []
        for field in page.fields:
            if field.widget == "file" and data is not None:
                refs = value_at(data, field.name)
                refs = refs if isinstance(refs, list) else [refs] if isinstance(refs, str) else []
                names = tuple(uploads.get(ref, ref) for ref in refs if isinstance(ref, str))
                rows.append(Row(field.label, names or (not_provided,), page.id, field.html_id))
                continue
            rows.extend(_rows(field, page.id, uploads, not_provided))
        sections.append(Section(page.id, page.title, tuple(rows)))
    return sections


def _rows(field: FieldNode, page: str, uploads: Mapping[str, str], not_provided: str) -> list[Row]:
    if field.widget == "repeat":
        filled = [item for item in field.children if any(child.value or child.selected for child in item.children)]
        if not filled:
            return [Row(field.label, (not_provided,), page, field.html_id)]
        rows = []
        for item in filled:
            words = tuple(f"{child.label}: {_answer(child, uploads) or not_provided}" for child in item.children)
            rows.append(Row(f"{field.label} – {item.label}", words, page, item.html_id))
        return rows
    if field.widget in ("address", "signature") and field.children:
        lines = tuple(child.value for child in field.children if child.value)
        return [Row(field.label, lines or (not_provided,), page, field.html_id)]
    answer = _answer(field, uploads)
    return [Row(field.label, (answer or not_provided,), page, field.html_id)]


def _answer(field: FieldNode, uploads: Mapping[str, str]) -> str:
    labels = {option.value: option.label for option in field.options}
    if field.widget == "checkboxes":
        return ", ".join(labels.get(value, value) for value in field.selected)
    if field.widget == "file":
        return uploads.get(field.value, field.value) if field.value else ""
    if field.options:
        return labels.get(field.value, field.value)
    return field.value
