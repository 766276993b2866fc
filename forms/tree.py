"""The neutral widget tree: what a form page shows, with no HTML, for templates to render.

``render_tree`` joins the form schema (types, ``required``, titles, privacy tags), the UI
schema (pages, widgets, texts, conditions), the answers so far and the validation errors
into frozen dataclasses, with every text already picked in the citizen's language. Texts
taken from the form schema (titles, descriptions, choices) and the built-in words are
translated by the program's locale files, which travel on the ``UiSchema``. Templates
(server-rendered HTML, a PDF receipt, a review page) only walk the tree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from engine.expressions import Evaluator
from forms.errors import FieldError, pointer_from
from forms.ui import (
    ADDRESS_PARTS,
    Text,
    UiField,
    UiSchema,
    schema_at,
    visible_fields,
    visible_pages,
)

__all__ = ["WORDS", "FieldNode", "FormTree", "Option", "PageNode", "render_tree"]

# Built-in words, for the parts of widgets that the UI schema does not name. A program's locale
# files may translate them by their English text (``"Add another": Añadir otro``); theirs win.
WORDS: Final[dict[str, Text]] = {
    "yes": Text((("en", "Yes"), ("zh-Hans", "是"))),
    "no": Text((("en", "No"), ("zh-Hans", "否"))),
    "add": Text((("en", "Add another"), ("zh-Hans", "再添加一项"))),
    "remove": Text((("en", "Remove"), ("zh-Hans", "删除"))),
    "item": Text((("en", "Item {number}"), ("zh-Hans", "第 {number} 项"))),
    "line1": Text((("en", "Address line 1"), ("zh-Hans", "地址第一行"))),
    "line2": Text((("en", "Address line 2"), ("zh-Hans", "地址第二行"))),
    "city": Text((("en", "City or town"), ("zh-Hans", "城市"))),
    "state": Text((("en", "State"), ("zh-Hans", "州"))),
    "zip": Text((("en", "ZIP code"), ("zh-Hans", "邮政编码"))),
    "name": Text((("en", "Type your full name"), ("zh-Hans", "请输入您的全名"))),
    "date": Text((("en", "Date"), ("zh-Hans", "日期"))),
}
_UNSAFE: Final = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Option:
    """One choice of a select, radios, checkboxes or yes/no field: the submitted value and its label."""

    value: str
    label: str


@dataclass(frozen=True, slots=True)
class FieldNode:
    """One input (or group of inputs) as a template draws it.

    ``name`` is the dotted data path (``household.members.0.name``), ``input_name`` the form
    input's ``name`` (the same path), ``html_id`` a safe unique id (``field-household-members-0-name``).
    ``value`` is the answer as text for the input; ``selected`` the chosen values of checkboxes.
    ``children`` hold a repeat's items (widget ``item``, each holding the item's fields) and an
    address's or a signature's parts. ``error`` is the first error message for this very field.
    """

    name: str
    html_id: str
    input_name: str
    widget: str
    label: str
    hint: str | None = None
    placeholder: str | None = None
    required: bool = False
    value: str = ""
    selected: tuple[str, ...] = ()
    options: tuple[Option, ...] = ()
    error: str | None = None
    children: tuple[FieldNode, ...] = ()
    sensitive: bool = False
    pii: bool = False
    min_items: int | None = None
    max_items: int | None = None
    add_label: str | None = None
    remove_label: str | None = None


@dataclass(frozen=True, slots=True)
class PageNode:
    """One shown page: its id, title, intro and shown fields, in order."""

    id: str
    title: str
    intro: str | None
    fields: tuple[FieldNode, ...]


@dataclass(frozen=True, slots=True)
class FormTree:
    """The shown pages (hidden ones left out), the current one, and where it sits in the steps.

    ``unplaced_errors`` are the messages of errors that match no shown field (an answer to a
    question that is not on the form, say), so an error summary can still list every problem.
    """

    pages: tuple[PageNode, ...]
    current_page: str
    step_number: int
    step_count: int
    unplaced_errors: tuple[str, ...] = ()

    @property
    def current(self) -> PageNode:
        """The current page's node."""
        return next(page for page in self.pages if page.id == self.current_page)


class _Builder:
    def __init__(
        self,
        schema: Mapping[str, Any],
        ui: UiSchema,
        errors: Iterable[FieldError],
        lang: str,
        visible: set[str],
    ) -> None:
        self.schema = schema
        self.ui = ui
        self.lang = lang
        self.visible = visible
        self.errors: dict[str, str] = {}
        for error in errors:
            self.errors.setdefault(error.pointer, error.message)
        self.used_errors: set[str] = set()
        self.ids: set[str] = set()

    def pick(self, text: Text | None) -> str | None:
        return text.pick(self.lang) if text is not None else None

    def schema_text(self, text: str | None) -> str | None:
        """A text taken from the form schema, translated by the locale files (or as written)."""
        return self.ui.translate(text, self.lang) if text is not None else None

    def word(self, key: str) -> str:
        """A built-in word: the locale files' translation of its English, else the built-in one."""
        built_in = WORDS[key]
        return self.ui.translation(built_in.pick("en"), self.lang) or built_in.pick(self.lang)

    def html_id(self, name: str) -> str:
        base = "field-" + (_UNSAFE.sub("-", name.lower()).strip("-") or "x")
        candidate, number = base, 2
        while candidate in self.ids:
            candidate, number = f"{base}-{number}", number + 1
        self.ids.add(candidate)
        return candidate

    def error(self, path: Sequence[str | int]) -> str | None:
        pointer = pointer_from(list(path))
        message = self.errors.get(pointer)
        if message is not None:
            self.used_errors.add(pointer)
        return message

    def field(
        self,
        field: UiField,
        path: tuple[str | int, ...],
        node: Mapping[str, Any],
        parent: Mapping[str, Any],
        value: Any,
    ) -> FieldNode:
        name = ".".join(str(part) for part in path)
        last = str(path[-1])
        label = self.pick(field.label) or self.schema_text(_title(node)) or _humane(last)
        required = last in _required(parent)
        common = FieldNode(
            name=name,
            html_id=self.html_id(name),
            input_name=name,
            widget=field.widget,
            label=label,
            hint=self.pick(field.hint) or self.schema_text(_description(node)),
            placeholder=self.pick(field.placeholder),
            required=required,
            error=self.error(path),
            sensitive=node.get("x-sensitive") is True,
            pii=node.get("x-pii") is True,
        )
        widget = field.widget
        if widget == "repeat":
            return self.repeat(field, path, node, value, common)
        if widget in ("address", "signature") and "object" in _kinds(node):
            return replace(common, children=self.parts(path, node, value, widget))
        if widget == "checkboxes":
            items = schema_at(self.schema, "*", within=node) or {}
            chosen = tuple(_as_text(item) for item in value) if isinstance(value, list) else ()
            return replace(common, selected=chosen, options=self.options(field, items))
        if widget in ("select", "radios", "yes/no"):
            return replace(common, value=_as_text(value), options=self.options(field, node))
        return replace(common, value=_as_text(value, money=widget == "money"))

    def repeat(
        self,
        field: UiField,
        path: tuple[str | int, ...],
        node: Mapping[str, Any],
        value: Any,
        common: FieldNode,
    ) -> FieldNode:
        item_schema = schema_at(self.schema, "*", within=node) or {}
        items = value if isinstance(value, list) else []
        min_items = node.get("minItems") if isinstance(node.get("minItems"), int) else None
        max_items = node.get("maxItems") if isinstance(node.get("maxItems"), int) else None
        item_label = field.item_label
        children: list[FieldNode] = []
        for index in range(max(len(items), min_items or 0)):
            item = items[index] if index < len(items) and isinstance(items[index], Mapping) else {}
            item_path = (*path, index)
            parts: list[FieldNode] = []
            for item_field in field.items:
                dotted = f"{'.'.join(str(part) for part in item_path)}.{item_field.name}"
                # Items not yet in the answers (blank rows up to minItems) show every item field.
                if index < len(items) and item_field.show_if is not None and dotted not in self.visible:
                    continue
                sub_path = (*item_path, *item_field.name.split("."))
                sub_node = schema_at(self.schema, item_field.name, within=item_schema) or {}
                sub_parent = schema_at(self.schema, item_field.name.rpartition(".")[0], within=item_schema) or {}
                parts.append(self.field(item_field, sub_path, sub_node, sub_parent, _get(item, item_field.name)))
            item_name = ".".join(str(part) for part in item_path)
            children.append(
                FieldNode(
                    name=item_name,
                    html_id=self.html_id(item_name),
                    input_name=item_name,
                    widget="item",
                    label=(self.pick(item_label) or self.word("item")).replace("{number}", str(index + 1)),
                    error=self.error(item_path),
                    children=tuple(parts),
                )
            )
        return replace(
            common,
            children=tuple(children),
            min_items=min_items,
            max_items=max_items,
            add_label=self.pick(field.add_label) or self.word("add"),
            remove_label=self.pick(field.remove_label) or self.word("remove"),
        )

    def parts(
        self, path: tuple[str | int, ...], node: Mapping[str, Any], value: Any, widget: str
    ) -> tuple[FieldNode, ...]:
        properties = node.get("properties")
        names = properties if isinstance(properties, Mapping) else {}
        order = ADDRESS_PARTS if widget == "address" else ("name", "date")
        answers = value if isinstance(value, Mapping) else {}
        children: list[FieldNode] = []
        for part in order:
            if part not in names:
                continue
            part_node = schema_at(self.schema, part, within=node) or {}
            name = ".".join(str(segment) for segment in (*path, part))
            children.append(
                FieldNode(
                    name=name,
                    html_id=self.html_id(name),
                    input_name=name,
                    widget="date" if part == "date" else "text",
                    label=self.schema_text(_title(part_node)) or self.word(part),
                    hint=self.schema_text(_description(part_node)),
                    required=part in _required(node),
                    value=_as_text(answers.get(part)),
                    error=self.error((*path, part)),
                    sensitive=part_node.get("x-sensitive") is True or node.get("x-sensitive") is True,
                    pii=part_node.get("x-pii") is True or node.get("x-pii") is True,
                )
            )
        return tuple(children)

    def options(self, field: UiField, node: Mapping[str, Any]) -> tuple[Option, ...]:
        labels = {value: text.pick(self.lang) for value, text in field.options}
        if field.widget == "yes/no" or (_kinds(node) == {"boolean"} and "enum" not in node):
            return (
                Option("true", labels.get("true") or self.word("yes")),
                Option("false", labels.get("false") or self.word("no")),
            )
        choices: list[tuple[Any, str | None]] = []
        if isinstance(node.get("enum"), list):
            choices = [(value, None) for value in node["enum"] if value is not None]
        elif isinstance(node.get("oneOf"), list):
            choices = [
                (item["const"], item.get("title") if isinstance(item.get("title"), str) else None)
                for item in node["oneOf"]
                if isinstance(item, Mapping) and "const" in item
            ]
        return tuple(
            Option(_as_text(value), labels.get(_as_text(value)) or self.choice(value, title))
            for value, title in choices
        )

    def choice(self, value: Any, title: str | None) -> str:
        """A choice's label from the schema: its ``oneOf`` title, else the value itself (text is translated)."""
        if title is not None:
            return self.ui.translate(title, self.lang)
        return self.ui.translate(value, self.lang) if isinstance(value, str) else _as_text(value)


def render_tree(
    schema: Mapping[str, Any],
    ui: UiSchema,
    data: Mapping[str, Any],
    errors: Iterable[FieldError],
    lang: str,
    *,
    page: str | None = None,
    evaluator: Evaluator | None = None,
) -> FormTree:
    """The widget tree for ``data`` in ``lang`` (falling back to English), hidden fields left out.

    Texts the UI schema does not give come from the form schema, translated by the locale
    files carried on ``ui`` (``ui.translations``); a text with no translation is shown as written.

    ``page`` names the current page (the first shown page by default); ``ValueError`` if it
    is not a page of the form or is hidden for these answers. ``errors`` (from ``validate``)
    are placed on the fields their pointers name; the rest go to ``unplaced_errors``.
    Conditions are evaluated with ``evaluator`` (a plain ``Evaluator()`` by default).
    """
    evaluator = evaluator if evaluator is not None else Evaluator()
    visible = visible_fields(ui, data, evaluator)
    shown_pages = visible_pages(ui, data, evaluator)
    builder = _Builder(schema, ui, errors, lang, visible)
    pages: list[PageNode] = []
    for ui_page in ui.pages:
        if ui_page.id not in shown_pages:
            continue
        shown = [field for field in ui_page.fields if field.name in visible]
        nodes: list[FieldNode] = []
        for field in shown:
            path = tuple(field.name.split("."))
            node = schema_at(schema, field.name) or {}
            parent = schema_at(schema, field.name.rpartition(".")[0]) or {}
            nodes.append(builder.field(field, path, node, parent, _get(data, field.name)))
        pages.append(PageNode(ui_page.id, ui_page.title.pick(lang), builder.pick(ui_page.intro), tuple(nodes)))
    if not pages:
        raise ValueError("no page of the form is shown for these answers")
    ids = [node.id for node in pages]
    current = page if page is not None else ids[0]
    if current not in ids:
        ui.page(current)  # KeyError for a page that does not exist at all
        raise ValueError(f"the page {current!r} is hidden for these answers")
    unplaced = tuple(message for pointer, message in builder.errors.items() if pointer not in builder.used_errors)
    return FormTree(tuple(pages), current, ids.index(current) + 1, len(ids), unplaced)


def _required(node: Mapping[str, Any]) -> set[str]:
    required = node.get("required")
    return {name for name in required if isinstance(name, str)} if isinstance(required, list) else set()


def _kinds(node: Mapping[str, Any]) -> set[str]:
    written = node.get("type")
    if isinstance(written, str):
        return {written}
    if isinstance(written, list):
        return {kind for kind in written if isinstance(kind, str)} - {"null"}
    return {"object"} if "properties" in node else set()


def _title(node: Mapping[str, Any]) -> str | None:
    title = node.get("title")
    return title if isinstance(title, str) and title else None


def _description(node: Mapping[str, Any]) -> str | None:
    description = node.get("description")
    return description if isinstance(description, str) and description else None


def _humane(name: str) -> str:
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _get(data: object, name: str) -> Any:
    for part in name.split("."):
        if not isinstance(data, Mapping):
            return None
        data = data.get(part)
    return data


def _as_text(value: object, *, money: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if money and not value.is_integer():
            return f"{value:.2f}"
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int | str):
        return str(value)
    return ""
