"""The UI schema (``form.ui.yaml``): pages, field order, widgets, texts, conditions, computed fields.

The JSON Schema says what an answer must be; the UI schema says how the question is asked:
on which page, with which widget, in which words (in every language the program offers),
and when it is shown at all. ``load_ui`` reads and checks the file, collecting every problem
with its ``path:line:col``; the functions below it apply the result to a citizen's answers
on the server, where hidden answers are removed and computed answers are worked out, so
nothing hidden is ever submitted silently and nothing computed is taken from the browser.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from engine.expressions import Evaluator, Expression, ExpressionError, ExpressionFailed, compile_expression
from engine.problems import DefinitionError, Problem
from engine.runtime import value_at
from engine.source import Document, Pointer, parse_yaml
from forms.errors import FieldError, pointer_from

__all__ = [
    "ADDRESS_PARTS",
    "WIDGETS",
    "Check",
    "Computed",
    "Page",
    "Text",
    "UiField",
    "UiSchema",
    "check_errors",
    "choice_label",
    "clean",
    "computed_values",
    "default_widget",
    "load_ui",
    "schema_at",
    "visible_fields",
    "visible_pages",
]

WIDGETS: Final = frozenset(
    {
        "text",
        "textarea",
        "number",
        "money",
        "date",
        "select",
        "radios",
        "checkboxes",
        "yes/no",
        "address",
        "file",
        "repeat",
        "signature",
    }
)
"""Every widget a field may name."""

ADDRESS_PARTS: Final = ("line1", "line2", "city", "state", "zip")
"""The properties an ``address`` object may have, in the order they are asked."""

RADIOS_UP_TO: Final = 5
"""Choices with at most this many options default to radios; more default to a select."""

_TOP_KEYS: Final = ("pages", "computed", "navigation", "checks")
_CHECK_KEYS: Final = ("field", "check", "message", "for each")
TODAY: Final = "today"
"""The name a check reads today's date by (``YYYY-MM-DD``, in the program's time zone)."""
FAILED_CHECK: Final = "failed_check"
"""The error code of a check between answers that does not hold."""
NAVIGATION: Final = ("steps", "task list")
"""How the pages are walked: one after another with a step indicator, or from a task list."""
_PAGE_KEYS: Final = ("id", "title", "intro", "fields", "show if")
_FIELD_KEYS: Final = ("field", "widget", "label", "hint", "placeholder", "show if", "options")
_REPEAT_KEYS: Final = ("add label", "remove label", "item label", "item fields")
_CHOICE_WIDGETS: Final = frozenset({"select", "radios", "checkboxes"})
_PAGE_ID: Final = re.compile(r"[a-z][a-z0-9_]*\Z")
_MAX_REF_HOPS: Final = 32


# --------------------------------------------------------------------------- model


@dataclass(frozen=True, slots=True)
class Text:
    """One text in every language: ``(("en", "About you"), ("zh-Hans", "关于您"))``."""

    translations: tuple[tuple[str, str], ...]

    def pick(self, lang: str) -> str:
        """The text in ``lang``, matched without regard to case (``zh-hans`` finds ``zh-Hans``).

        A longer tag falls back to a shorter one (``zh-Hans-CN`` to ``zh-Hans``), then to English,
        then to the first language written.
        """
        by_tag = {tag.casefold(): text for tag, text in self.translations}
        found = _match(by_tag, lang)
        if found is not None:
            return by_tag[found]
        if "en" in by_tag:
            return by_tag["en"]
        return self.translations[0][1] if self.translations else ""


def _match(tags: Iterable[str], lang: str) -> str | None:
    """The tag of ``tags`` that serves ``lang``: itself, else its shorter forms (``zh-Hans-CN`` to ``zh-Hans``).

    Case does not matter (``zh-hans`` finds ``zh-Hans``); the tag is returned as written.
    """
    by_folded = {tag.casefold(): tag for tag in tags}
    wanted = lang.casefold().replace("_", "-")
    while wanted:
        if wanted in by_folded:
            return by_folded[wanted]
        wanted = wanted.rpartition("-")[0]
    return None


@dataclass(frozen=True, slots=True)
class UiField:
    """One question placed on a page (or inside a repeating group's items).

    ``name`` is dotted from the root of the answers (``household.members``), or, for an item
    field, from the item (``monthly_income``). ``widget`` is always set: the one written, or the
    default for the field's schema type. Texts left as ``None`` fall back to the schema.
    """

    name: str
    widget: str
    label: Text | None = None
    hint: Text | None = None
    placeholder: Text | None = None
    show_if: Expression | None = None
    options: tuple[tuple[str, Text], ...] = ()
    add_label: Text | None = None
    remove_label: Text | None = None
    item_label: Text | None = None
    items: tuple[UiField, ...] = ()


@dataclass(frozen=True, slots=True)
class Page:
    """One page of the form: a title, an optional intro, its questions in order."""

    id: str
    title: Text
    intro: Text | None = None
    fields: tuple[UiField, ...] = ()
    show_if: Expression | None = None


@dataclass(frozen=True, slots=True)
class Computed:
    """A field worked out on the server from other answers (never taken from the browser)."""

    name: str
    expression: Expression


@dataclass(frozen=True, slots=True)
class Check:
    """A rule between answers, with the message shown at ``field`` when it does not hold.

    With ``each`` (a repeating group), the rule is worked out once per item: ``field`` is a field
    of the item, and bare names in ``condition`` are the item's fields first.
    """

    field: str
    condition: Expression
    message: Text
    each: str | None = None


@dataclass(frozen=True, slots=True)
class UiSchema:
    """A checked ``form.ui.yaml`` (or the default UI of a program that has none).

    ``unplaced`` names the schema fields on no page and not computed (each also reported in
    ``warnings`` as ``field_not_on_any_page``): nobody can answer them, so ``clean`` removes them.
    ``translations`` are the program's locale files, by language: each maps a text as written
    in the first language to its translation. The UI's own texts already hold them (see
    ``Text``); ``render_tree`` uses them for the texts it takes from the form schema.
    """

    pages: tuple[Page, ...]
    computed: tuple[Computed, ...] = ()
    languages: tuple[str, ...] = ("en",)
    warnings: tuple[Problem, ...] = ()
    unplaced: tuple[str, ...] = ()
    translations: Mapping[str, Mapping[str, str]] = dataclasses.field(default_factory=dict, hash=False)
    navigation: str = "steps"
    checks: tuple[Check, ...] = ()

    def page(self, page_id: str) -> Page:
        """The page with this id; ``KeyError`` if there is none."""
        for page in self.pages:
            if page.id == page_id:
                return page
        raise KeyError(page_id)

    def translation(self, text: str, lang: str) -> str | None:
        """The locale files' translation of ``text`` for ``lang`` (``zh-Hans-CN`` is served by
        ``zh-Hans``), or None when there is none."""
        tag = _match((tag for tag, table in self.translations.items() if text in table), lang)
        return self.translations[tag][text] if tag is not None else None

    def translate(self, text: str, lang: str) -> str:
        """``text`` (as written in the program's first language) in ``lang``, or as written."""
        return self.translation(text, lang) or text


# --------------------------------------------------------------------------- schema look-ups


def schema_at(
    schema: Mapping[str, Any], name: str, *, within: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """The subschema for the dotted ``name`` (``household.members.0.age`` or ``….*.age``), or None.

    Local ``$ref``s (``#/$defs/person``) are followed; ``within`` starts the walk at a subschema
    (an item's) instead of the root, while ``$ref``s still resolve against ``schema``.
    """
    node = _resolve(schema, within if within is not None else schema)
    for segment in name.split(".") if name else ():
        if node is None:
            return None
        if "array" in _types(node) and (segment == "*" or segment.isdigit()):
            items = node.get("items")
            node = _resolve(schema, items) if isinstance(items, Mapping) else None
            continue
        properties = node.get("properties")
        child = properties.get(segment) if isinstance(properties, Mapping) else None
        node = _resolve(schema, child) if isinstance(child, Mapping) else None
    return node


def default_widget(schema: Mapping[str, Any], node: Mapping[str, Any]) -> str | None:
    """The widget a field gets when the UI schema names none; None for a plain group of questions."""
    node = _resolve(schema, node) or {}
    types = _types(node)
    if _choices(node) is not None and "array" not in types:
        choices = _choices(node) or ()
        return "radios" if len(choices) <= RADIOS_UP_TO else "select"
    if "boolean" in types:
        return "yes/no"
    if types & {"integer", "number"}:
        return "number"
    if "array" in types:
        items = _resolve(schema, node.get("items")) or {}
        if _choices(items) is not None:
            return "checkboxes"
        if "object" in _types(items):
            return "repeat"
        return None
    if "object" in types:
        if _is_address(node):
            return "address"
        if _is_signature(node):
            return "signature"
        return None
    if "string" in types:
        return "date" if node.get("format") == "date" else "text"
    return None


def _resolve(schema: Mapping[str, Any], node: object) -> dict[str, Any] | None:
    for _ in range(_MAX_REF_HOPS):
        if not isinstance(node, Mapping):
            return None
        ref = node.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#"):
            return dict(node)
        target: object = schema
        for part in ref[1:].split("/")[1:]:
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part) if isinstance(target, Mapping) else None
        node = target
    return None


def _types(node: Mapping[str, Any]) -> set[str]:
    written = node.get("type")
    if isinstance(written, str):
        return {written} - {"null"}
    if isinstance(written, list):
        return {kind for kind in written if isinstance(kind, str)} - {"null"}
    if "properties" in node:
        return {"object"}
    if "items" in node:
        return {"array"}
    if isinstance(node.get("enum"), list):
        return {_json_type(value) for value in node["enum"] if value is not None}
    return set()


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"


def _choices(node: Mapping[str, Any]) -> list[tuple[Any, str | None]] | None:
    """The allowed values of a choice field with their schema titles: ``enum`` or ``oneOf`` consts."""
    if isinstance(node.get("enum"), list):
        return [(value, None) for value in node["enum"] if value is not None]
    one_of = node.get("oneOf")
    if isinstance(one_of, list) and one_of and all(isinstance(item, Mapping) and "const" in item for item in one_of):
        return [(item["const"], item.get("title") if isinstance(item.get("title"), str) else None) for item in one_of]
    return None


def _properties(node: Mapping[str, Any]) -> dict[str, Any]:
    properties = node.get("properties")
    return dict(properties) if isinstance(properties, Mapping) else {}


def _is_address(node: Mapping[str, Any]) -> bool:
    names = set(_properties(node))
    return "line1" in names and names <= set(ADDRESS_PARTS)


def _is_signature(node: Mapping[str, Any]) -> bool:
    return set(_properties(node)) == {"name", "date"}


def _fits(widget: str, schema: Mapping[str, Any], node: Mapping[str, Any]) -> str | None:
    """Why ``widget`` cannot ask for a value of this schema, or None when it can."""
    types = _types(node)
    items = _resolve(schema, node.get("items")) or {}
    checks: dict[str, tuple[bool, str]] = {
        "text": (types <= {"string"} and bool(types), "text"),
        "textarea": (types <= {"string"} and bool(types), "text"),
        "date": (types <= {"string"} and bool(types), "text"),
        "number": (bool(types) and types <= {"integer", "number"}, "a number"),
        "money": (bool(types) and types <= {"integer", "number"}, "a number"),
        "select": (_choices(node) is not None and "array" not in types, "a choice (enum)"),
        "radios": (
            (_choices(node) is not None and "array" not in types) or types == {"boolean"},
            "a choice (enum) or true/false",
        ),
        "checkboxes": ("array" in types and _choices(items) is not None, "a list of choices (array of enum)"),
        "yes/no": (types == {"boolean"}, "true/false (boolean)"),
        "address": (
            "object" in types and _is_address(node),
            "an object with line1 and some of line2, city, state, zip",
        ),
        "file": (
            types == {"string"} or ("array" in types and _types(items) == {"string"}),
            "text (a stored file's reference) or a list of them",
        ),
        "repeat": ("array" in types and "object" in _types(items), "a list of objects (array of object)"),
        "signature": (
            types == {"string"} or ("object" in types and _is_signature(node)),
            "text (the typed name) or an object with name and date",
        ),
    }
    fits, needs = checks[widget]
    return None if fits else needs


def _describe(schema: Mapping[str, Any], node: Mapping[str, Any]) -> str:
    types = _types(node)
    if "array" in types:
        items = _resolve(schema, node.get("items")) or {}
        inner = "/".join(sorted(_types(items))) or "anything"
        return f"a list of {inner}"
    return "/".join(sorted(types)) or "untyped"


# --------------------------------------------------------------------------- loading


class _Loader:
    def __init__(
        self,
        document: Document,
        text: str,
        schema: Mapping[str, Any],
        languages: tuple[str, ...],
        translations: Mapping[str, Mapping[str, str]],
    ) -> None:
        self.document = document
        self.lines = text.splitlines()
        self.schema = schema
        self.languages = languages
        self.translations = translations
        self.problems: list[Problem] = []
        self.placed: dict[str, Pointer] = {}
        self.computed_names: set[str] = set()

    def problem(self, pointer: Pointer, code: str, message: str, *, severity: str = "error") -> None:
        found = self.document.problem(pointer, code, message)
        self.problems.append(dataclasses.replace(found, severity=severity))

    def unknown_keys(self, pointer: Pointer, value: Mapping[str, Any], allowed: Iterable[str], what: str) -> None:
        allowed = tuple(allowed)
        for key in value:
            if key not in allowed:
                listed = ", ".join(allowed)
                self.problem((*pointer, key), "unknown_key", f"{what} has no key {key!r}; the keys are: {listed}")

    def load(self) -> UiSchema:
        data = self.document.data
        if not isinstance(data, dict):
            self.problem((), "invalid_ui", "form.ui.yaml must be a mapping with pages (and optionally computed)")
            raise DefinitionError(self.problems)
        self.unknown_keys((), data, _TOP_KEYS, "form.ui.yaml")
        computed = self.computed(data.get("computed"))
        pages = self.pages(data.get("pages"))
        navigation = data.get("navigation", "steps")
        if navigation not in NAVIGATION:
            choices = " or ".join(repr(choice) for choice in NAVIGATION)
            self.problem(("navigation",), "invalid_value", f"navigation must be {choices}, not {navigation!r}")
            navigation = "steps"
        unplaced = self.coverage()
        checks = self.checks(data.get("checks"))
        self.problems.sort(key=lambda problem: (problem.line, problem.col))
        if any(problem.severity == "error" for problem in self.problems):
            raise DefinitionError(self.problems)
        return UiSchema(
            pages, computed, self.languages, tuple(self.problems), unplaced, self.translations, str(navigation), checks
        )

    # ---- texts and expressions

    def text(self, pointer: Pointer, value: object) -> Text | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = {self.languages[0]: value}
        if not isinstance(value, dict):
            self.problem(pointer, "invalid_text", f"{pointer[-1]} must be text in each language, as {{en: ...}}")
            return None
        written: dict[str, str] = {}
        for tag, words in value.items():
            if tag not in self.languages:
                listed = ", ".join(self.languages)
                self.problem((*pointer, tag), "unknown_language", f"{tag!r} is not one of the languages: {listed}")
            elif not isinstance(words, str) or not words.strip():
                self.problem((*pointer, tag), "invalid_text", f"the {tag} text of {pointer[-1]} must be words")
            else:
                written[tag] = words
        # A language not written here comes from its locale file, by the first language's text.
        source = value.get(self.languages[0])
        if isinstance(source, str):
            for tag in self.languages[1:]:
                translated = self.translations.get(tag, {}).get(source)
                if tag not in value and translated is not None:
                    written[tag] = translated
        missing = [tag for tag in self.languages if tag not in value and tag not in written]
        if missing:
            message = f"{pointer[-1]} has no {', '.join(missing)} text"
            if isinstance(source, str) and self.languages[0] not in missing:
                files = ", ".join(f"locale/{tag}.yaml" for tag in missing)
                inline = ", ".join(f"{tag}: ..." for tag in self.languages)
                message += f"; translate {source!r} in {files}, or write {{{inline}}}"
            self.problem(pointer, "missing_translation", message)
        return Text(tuple((tag, written[tag]) for tag in self.languages if tag in written))

    def expression(
        self, pointer: Pointer, value: object, *, item_of: str | None = None, extra: Iterable[str] = ()
    ) -> Expression | None:
        if value is None:
            return None
        if isinstance(value, bool | int | float):
            value = str(value).lower()
        if not isinstance(value, str):
            self.problem(pointer, "invalid_expression", f"{pointer[-1]} must be an expression written as text")
            return None
        try:
            compiled = compile_expression(value)
        except ExpressionError as error:
            self.problems.append(self.at_character(pointer, value, error.offset, error.code, error.message))
            return None
        for variable in sorted(compiled.variables):
            if variable not in extra and not self.known(variable, item_of):
                where = f"the items of {item_of} or the form" if item_of else "the form schema"
                self.problems.append(
                    self.at_character(
                        pointer,
                        value,
                        max(value.find(variable.split(".*")[0]), 0),
                        "unknown_field",
                        f"{variable!r} is not a field of {where}",
                    )
                )
        return compiled

    def at_character(self, pointer: Pointer, value: str, offset: int, code: str, message: str) -> Problem:
        place = self.document.problem(pointer, code, message)
        if "\n" in value or (pointer not in self.document.marks):
            return place
        col = place.col + offset
        line = self.lines[place.line - 1] if 0 < place.line <= len(self.lines) else ""
        if line[place.col - 1 : place.col] in ("'", '"'):  # a quoted expression starts after its quote
            col += 1
        return dataclasses.replace(place, col=col)

    def known(self, variable: str, item_of: str | None) -> bool:
        if item_of is not None:
            item = schema_at(self.schema, f"{item_of}.*")
            if item is not None and schema_at(self.schema, variable, within=item) is not None:
                return True
        if variable in self.computed_names or variable.split(".")[0] in self.computed_names:
            return True
        return schema_at(self.schema, variable) is not None

    # ---- computed

    def computed(self, value: object) -> tuple[Computed, ...]:
        if value is None:
            return ()
        if not isinstance(value, dict):
            self.problem(("computed",), "invalid_ui", "computed must map field names to expressions")
            return ()
        self.computed_names = set(value)
        result: list[Computed] = []
        for name, source in value.items():
            pointer: Pointer = ("computed", name)
            if schema_at(self.schema, name) is None:
                self.problem(pointer, "unknown_field", f"computed field {name!r} is not in the form schema")
            expression = self.expression(pointer, source)
            if expression is not None:
                result.append(Computed(name, expression))
            self.placed[name] = pointer
        return tuple(result)

    # ---- checks between answers

    def checks(self, value: object) -> tuple[Check, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.problem(("checks",), "invalid_ui", "checks must be a list of {field, check, message}")
            return ()
        result: list[Check] = []
        for index, raw in enumerate(value):
            pointer: Pointer = ("checks", index)
            if not isinstance(raw, dict):
                self.problem(pointer, "invalid_ui", "each check is a mapping with field, check and message")
                continue
            self.unknown_keys(pointer, raw, _CHECK_KEYS, "a check")
            for key in ("field", "check", "message"):
                if key not in raw:
                    self.problem(pointer, "missing_key", f"a check needs {key}")
            each = raw.get("for each")
            if each is not None and not self.is_repeat(each):
                self.problem(
                    (*pointer, "for each"),
                    "unknown_field",
                    f"for each must name a repeating group placed on a page, not {each!r}",
                )
                each = None
            field = raw.get("field")
            if isinstance(field, str):
                found = schema_at(self.schema, f"{each}.*.{field}" if each else field)
                if found is None:
                    where = f"the items of {each}" if each else "the form schema"
                    self.problem((*pointer, "field"), "unknown_field", f"{field!r} is not a field of {where}")
                    field = None
            elif "field" in raw:
                self.problem((*pointer, "field"), "invalid_ui", "field must name the question the message is shown at")
                field = None
            condition = self.expression((*pointer, "check"), raw.get("check"), item_of=each, extra=(TODAY,))
            message = self.text((*pointer, "message"), raw.get("message"))
            if isinstance(field, str) and condition is not None and message is not None:
                result.append(Check(field, condition, message, each if isinstance(each, str) else None))
        return tuple(result)

    def is_repeat(self, name: object) -> bool:
        if not isinstance(name, str) or name not in self.placed:
            return False
        node = schema_at(self.schema, name) or {}
        return "array" in _types(node) and "object" in _types(schema_at(self.schema, f"{name}.*") or {})

    # ---- pages

    def pages(self, value: object) -> tuple[Page, ...]:
        if not isinstance(value, list) or not value:
            self.problem(("pages",), "missing_key", "pages must list at least one page")
            return ()
        pages: list[Page] = []
        seen: set[str] = set()
        for index, raw in enumerate(value):
            pointer: Pointer = ("pages", index)
            if not isinstance(raw, dict):
                self.problem(pointer, "invalid_ui", "each page must be a mapping with id, title and fields")
                continue
            self.unknown_keys(pointer, raw, _PAGE_KEYS, "a page")
            page_id = raw.get("id")
            if not isinstance(page_id, str) or not _PAGE_ID.match(page_id):
                self.problem(
                    (*pointer, "id"), "invalid_id", "a page needs an id of lowercase letters, digits and _ (about_you)"
                )
                page_id = f"page_{index + 1}"
            elif page_id in seen:
                self.problem((*pointer, "id"), "duplicate_page", f"the page id {page_id!r} is used twice")
            seen.add(page_id)
            if "title" not in raw:
                self.problem(pointer, "missing_key", f"page {page_id!r} needs a title")
            title = self.text((*pointer, "title"), raw.get("title")) or Text(())
            intro = self.text((*pointer, "intro"), raw.get("intro"))
            show_if = self.expression((*pointer, "show if"), raw.get("show if"))
            fields = self.fields((*pointer, "fields"), raw.get("fields"), item_of=None)
            pages.append(Page(page_id, title, intro, fields, show_if))
        return tuple(pages)

    def fields(self, pointer: Pointer, value: object, *, item_of: str | None) -> tuple[UiField, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.problem(pointer, "invalid_ui", f"{pointer[-1]} must be a list of fields")
            return ()
        result: list[UiField] = []
        seen: set[str] = set()
        for index, raw in enumerate(value):
            field = self.field((*pointer, index), raw, item_of=item_of, seen=seen)
            if field is not None:
                result.append(field)
        return tuple(result)

    def field(self, pointer: Pointer, raw: object, *, item_of: str | None, seen: set[str]) -> UiField | None:
        entry: dict[str, Any] = {"field": raw} if isinstance(raw, str) else raw if isinstance(raw, dict) else {}
        if not isinstance(entry.get("field"), str):
            self.problem(
                pointer, "missing_key", "a field entry needs a field name, as - full_name or - field: full_name"
            )
            return None
        name: str = entry["field"]
        name_at: Pointer = pointer if isinstance(raw, str) else (*pointer, "field")
        item_schema = schema_at(self.schema, f"{item_of}.*") if item_of is not None else None
        node = schema_at(self.schema, name, within=item_schema)
        full = f"{item_of}.*.{name}" if item_of is not None else name
        if node is None or "*" in name.split(".") or any(part.isdigit() for part in name.split(".")):
            where = f"the items of {item_of}" if item_of is not None else "the form schema"
            self.problem(name_at, "unknown_field", f"{name!r} is not a field of {where}")
            return None
        self.check_placement(name_at, full, seen if item_of is not None else None)
        written = entry.get("widget")
        widget = written if isinstance(written, str) else default_widget(self.schema, node)
        allowed: tuple[str, ...] = _FIELD_KEYS + (_REPEAT_KEYS if widget == "repeat" else ())
        self.unknown_keys(pointer, entry, allowed, f"a {widget or 'field'} field")
        if written is not None and (not isinstance(written, str) or written not in WIDGETS):
            self.problem(
                (*pointer, "widget"),
                "unknown_widget",
                f"{written!r} is not a widget; the widgets are: {', '.join(sorted(WIDGETS))}",
            )
            widget = None
        elif widget is None:
            self.problem(
                name_at,
                "widget_mismatch",
                f"{name!r} is {_describe(self.schema, node)} with no default widget; "
                "place its fields one by one or name a widget that fits",
            )
        else:
            needs = _fits(widget, self.schema, node)
            if needs is not None:
                self.problem(
                    (*pointer, "widget"),
                    "widget_mismatch",
                    f"the {widget} widget needs {needs}, but {name!r} is {_describe(self.schema, node)}",
                )
        if widget == "repeat" and item_of is not None:
            self.problem((*pointer, "widget"), "widget_mismatch", "a repeating group cannot hold another one")
            widget = None
        if widget == "file" and item_of is not None:
            # Uploads are stored per question on a page; a file per item is not supported yet.
            self.problem(
                name_at, "widget_mismatch", "a file question cannot be inside a repeating group; place it on a page"
            )
            widget = None
        if "options" in entry and widget not in _CHOICE_WIDGETS:
            self.problem((*pointer, "options"), "unknown_key", "options applies only to select, radios and checkboxes")
        texts = {key: self.text((*pointer, key), entry.get(key)) for key in ("label", "hint", "placeholder")}
        show_if = self.expression((*pointer, "show if"), entry.get("show if"), item_of=item_of)
        options = self.options((*pointer, "options"), entry.get("options"), node)
        items: tuple[UiField, ...] = ()
        if widget == "repeat":
            items = self.item_fields(pointer, entry, full)
        return UiField(
            name=name,
            widget=widget or "text",
            label=texts["label"],
            hint=texts["hint"],
            placeholder=texts["placeholder"],
            show_if=show_if,
            options=options,
            add_label=self.text((*pointer, "add label"), entry.get("add label")),
            remove_label=self.text((*pointer, "remove label"), entry.get("remove label")),
            item_label=self.text((*pointer, "item label"), entry.get("item label")),
            items=items,
        )

    def check_placement(self, pointer: Pointer, full: str, seen_in_item: set[str] | None) -> None:
        if seen_in_item is not None:
            if full in seen_in_item:
                self.problem(pointer, "duplicate_field", f"{full.rsplit('.', 1)[-1]!r} is placed twice in this group")
            seen_in_item.add(full)
            return
        for placed, where in self.placed.items():
            overlap = placed == full or full.startswith(placed + ".") or placed.startswith(full + ".")
            if overlap:
                place = self.document.problem(where, "", "")
                how = "computed" if placed in self.computed_names else "placed"
                what = f"{full!r} is" if placed == full else f"{full!r} overlaps {placed!r}, which is"
                self.problem(
                    pointer,
                    "duplicate_field",
                    f"{what} already {how} at line {place.line}; each field goes on exactly one page",
                )
                return
        self.placed[full] = pointer

    def item_fields(self, pointer: Pointer, entry: Mapping[str, Any], full: str) -> tuple[UiField, ...]:
        written = entry.get("item fields")
        if written is None:
            item = schema_at(self.schema, f"{full}.*") or {}
            written = list(_properties(item))
            if not written:
                self.problem(pointer, "missing_key", f"the repeat {full!r} needs item fields")
            return self.fields((*pointer, "item fields"), written, item_of=full) if written else ()
        fields = self.fields((*pointer, "item fields"), written, item_of=full)
        item = schema_at(self.schema, f"{full}.*") or {}
        listed = {field.name.split(".")[0] for field in fields}
        for name in _properties(item):
            if name not in listed:
                self.problem(
                    (*pointer, "item fields"),
                    "field_not_on_any_page",
                    f"{full}.*.{name} is in the schema but not in this repeat's item fields",
                    severity="warning",
                )
        return fields

    def options(self, pointer: Pointer, value: object, node: Mapping[str, Any]) -> tuple[tuple[str, Text], ...]:
        if value is None:
            return ()
        if not isinstance(value, dict):
            self.problem(pointer, "invalid_ui", "options must map each value to its label, as {yes: {en: Yes}}")
            return ()
        target = _resolve(self.schema, node.get("items")) if "array" in _types(node) else node
        allowed = {_as_text(choice) for choice, _ in (_choices(target or {}) or [])}
        result: list[tuple[str, Text]] = []
        for key, label in value.items():
            if str(key) not in allowed:
                self.problem((*pointer, key), "unknown_option", f"{key!r} is not one of the values {sorted(allowed)}")
                continue
            text = self.text((*pointer, key), label)
            if text is not None:
                result.append((str(key), text))
        return tuple(result)

    # ---- coverage

    def coverage(self) -> tuple[str, ...]:
        unplaced: list[str] = []
        root = _resolve(self.schema, self.schema) or {}
        self.cover("", root, unplaced)
        for name in unplaced:
            self.problem(
                ("pages",),
                "field_not_on_any_page",
                f"{name!r} is in the form schema but on no page and not computed; nobody can answer it",
                severity="warning",
            )
        return tuple(unplaced)

    def cover(self, prefix: str, node: Mapping[str, Any], unplaced: list[str]) -> None:
        for name, child in _properties(node).items():
            full = f"{prefix}{name}"
            if full in self.placed:
                continue
            resolved = _resolve(self.schema, child) or {}
            if "object" in _types(resolved) and _properties(resolved):
                self.cover(full + ".", resolved, unplaced)
            else:
                unplaced.append(full)


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def load_ui(
    path: str,
    text: str,
    schema: Mapping[str, Any],
    *,
    languages: tuple[str, ...],
    translations: Mapping[str, Mapping[str, str]] | None = None,
) -> UiSchema:
    """Read and check a ``form.ui.yaml`` against its form schema.

    Raises ``DefinitionError`` carrying every problem (errors and warnings), each located
    ``path:line:col``, when there is at least one error; otherwise the warnings travel on
    ``UiSchema.warnings``. ``languages`` are the program's languages; every text needs all of
    them, and the first is the one a plain text is taken to be written in. ``translations``
    (language -> first-language text -> translation, from the locale files) supply the
    languages a text does not write inline; inline ones win. They travel on the result.

    The texts taken from the form schema (titles, descriptions, choices) are checked by
    ``forms.load_program_ui``, which knows the locale files and ``form.schema.json``.
    """
    if not languages:
        raise ValueError("languages must name at least one language")
    document = parse_yaml(path, text)
    return _Loader(document, text, schema, languages, translations or {}).load()


# --------------------------------------------------------------------------- applying to answers


def computed_values(ui: UiSchema, data: Mapping[str, Any], evaluator: Evaluator) -> dict[str, Any]:
    """Every computed field's value for ``data``, by dotted name, in the order written.

    Each computed field sees the ones before it. One that fails (a division by zero, text
    where a number is needed) is left out, so no value is ever guessed.
    """
    context = copy.deepcopy(dict(data))
    values: dict[str, Any] = {}
    for computed in ui.computed:
        _delete(context, computed.name)
        try:
            value = evaluator.evaluate(computed.expression, context)
        except ExpressionFailed:
            continue
        values[computed.name] = value
        _assign(context, computed.name, value)
    return values


def visible_pages(ui: UiSchema, data: Mapping[str, Any], evaluator: Evaluator) -> list[str]:
    """The ids of the pages shown for ``data``, in order (a page's ``show if`` sees computed values)."""
    context = _with_computed(ui, data, evaluator)
    return [page.id for page in ui.pages if _holds(evaluator, page.show_if, context)]


def _with_computed(ui: UiSchema, data: Mapping[str, Any], evaluator: Evaluator) -> dict[str, Any]:
    context = copy.deepcopy(dict(data))
    for name, value in computed_values(ui, data, evaluator).items():
        _assign(context, name, value)
    return context


def visible_fields(ui: UiSchema, data: Mapping[str, Any], evaluator: Evaluator) -> set[str]:
    """The dotted names of the fields shown for ``data`` (computed values are worked out first).

    A field is shown when its page and its own ``show if`` hold. For a repeating group, each
    shown item field is listed per item as well: ``household.members.0.monthly_income``. A
    condition that fails to evaluate counts as false: the field is hidden.
    """
    context = _with_computed(ui, data, evaluator)
    visible: set[str] = set()
    for page in ui.pages:
        if not _holds(evaluator, page.show_if, context):
            continue
        for field in page.fields:
            if not _holds(evaluator, field.show_if, context):
                continue
            visible.add(field.name)
            items = value_at(context, field.name)
            if field.widget != "repeat" or not isinstance(items, list):
                continue
            for index, item in enumerate(items):
                scope = {**context, **item} if isinstance(item, dict) else context
                for item_field in field.items:
                    if _holds(evaluator, item_field.show_if, scope):
                        visible.add(f"{field.name}.{index}.{item_field.name}")
    return visible


def clean(ui: UiSchema, schema: Mapping[str, Any], data: Mapping[str, Any], evaluator: Evaluator) -> dict[str, Any]:
    """The answers to keep: hidden answers removed, computed answers (re)worked out here.

    Removed: answers to fields hidden by ``show if`` or on a hidden page (item fields too,
    item by item), answers to schema fields that are on no page, and any value the browser
    sent for a computed field, which is then set from its expression (or left out if that
    fails). Hiding is applied until nothing changes, so a question that depends on a hidden
    answer is hidden too. ``data`` itself is not changed.
    """
    base = copy.deepcopy(dict(data))
    for name in ui.unplaced:
        if schema_at(schema, name) is not None:
            _delete(base, name)
    for computed in ui.computed:
        _delete(base, computed.name)
    current = base
    for _ in range(sum(len(page.fields) for page in ui.pages) + 2):
        stripped = _strip(ui, base, visible_fields(ui, current, evaluator))
        if stripped == current:
            break
        current = stripped
    for name, value in computed_values(ui, current, evaluator).items():
        _assign(current, name, value)
    return current


def check_errors(
    ui: UiSchema, data: Mapping[str, Any], evaluator: Evaluator, *, today: str, language: str
) -> list[FieldError]:
    """An error for each check between answers that does not hold, at its field, in ``language``.

    Only checks about a question that is shown and answered are worked out: a hidden answer is
    never asked about, and an unanswered one is ``required``'s to report. A check that cannot
    be worked out (an answer it reads is not a date, say) gives no error either: the question's
    own rules (``format``) speak about that.
    """
    if not ui.checks:
        return []
    context = _with_computed(ui, data, evaluator)
    context[TODAY] = today
    shown = visible_fields(ui, data, evaluator)
    errors: list[FieldError] = []
    for check in ui.checks:
        if check.each is None:
            answered = value_at(context, check.field) not in (None, "")
            if (
                answered
                and _shown(check.field, shown, floor=1)
                and not _check_holds(evaluator, check.condition, context)
            ):
                pointer = pointer_from(check.field.split("."))
                errors.append(FieldError(pointer, FAILED_CHECK, check.message.pick(language)))
            continue
        items = value_at(context, check.each)
        for index, item in enumerate(items if isinstance(items, list) else []):
            name = f"{check.each}.{index}.{check.field}"
            if not isinstance(item, dict) or value_at(item, check.field) in (None, ""):
                continue
            if not _shown(name, shown, floor=len(check.each.split(".")) + 2):
                continue
            if not _check_holds(evaluator, check.condition, {**context, **item, TODAY: today}):
                errors.append(FieldError(pointer_from(name.split(".")), FAILED_CHECK, check.message.pick(language)))
    return errors


def _shown(name: str, shown: set[str], *, floor: int) -> bool:
    """A field is shown when it, or the group it is asked as a whole (an address), is; ``floor``
    is the shortest prefix that counts (an item's field is not shown just because its list is)."""
    parts = name.split(".")
    return any(".".join(parts[:end]) in shown for end in range(len(parts), floor - 1, -1))


def _check_holds(evaluator: Evaluator, condition: Expression, context: Mapping[str, Any]) -> bool:
    try:
        return evaluator.test(condition, context)
    except ExpressionFailed:
        return True  # not worked out: the answer's own rules report what is missing or malformed


def choice_label(ui: UiSchema, schema: Mapping[str, Any], name: str, value: object, lang: str) -> str | None:
    """The words a choice was offered with (``pickup`` -> "Pick it up at a branch"), in ``lang``.

    ``name`` is the dotted answer path (a number steps into a list). The label comes from the
    field's ``options`` in ``form.ui.yaml``, else from the schema's ``oneOf`` titles (through the
    locale files); None when the answer is not a choice or the value is not one of its choices.
    """
    parts = [part for part in name.split(".") if not part.isdigit()]
    field = _placed_field(ui, parts)
    key = _as_text(value)
    if field is not None:
        for option, text in field.options:
            if option == key:
                return text.pick(lang)
    node = schema_at(schema, ".".join(parts)) or {}
    items = _resolve(schema, node.get("items")) if "array" in _types(node) else None
    for choice, title in _choices(items or node) or []:
        if _as_text(choice) == key and title:
            return ui.translate(title, lang)
    return None


def _placed_field(ui: UiSchema, parts: list[str]) -> UiField | None:
    """The UI field placed for an answer path without list positions (``children.date_of_birth``)."""
    for page in ui.pages:
        for field in page.fields:
            if field.name == ".".join(parts):
                return field
            head = field.name.split(".")
            if field.widget == "repeat" and parts[: len(head)] == head:
                rest = ".".join(parts[len(head) :])
                for item in field.items:
                    if item.name == rest:
                        return item
    return None


def _holds(evaluator: Evaluator, condition: Expression | None, context: Mapping[str, Any]) -> bool:
    if condition is None:
        return True
    try:
        return evaluator.test(condition, context)
    except ExpressionFailed:
        return False


def _strip(ui: UiSchema, data: dict[str, Any], visible: set[str]) -> dict[str, Any]:
    result = copy.deepcopy(data)
    for page in ui.pages:
        for field in page.fields:
            if field.name not in visible:
                _delete(result, field.name)
                continue
            items = value_at(result, field.name)
            if field.widget != "repeat" or not isinstance(items, list):
                continue
            for index, item in enumerate(items):
                if not isinstance(item, dict):
                    continue
                for item_field in field.items:
                    if f"{field.name}.{index}.{item_field.name}" not in visible:
                        _delete(item, item_field.name)
    return result


def _delete(data: dict[str, Any], name: str) -> None:
    *parents, last = name.split(".")
    node: Any = data
    for part in parents:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(last, None)


def _assign(data: dict[str, Any], name: str, value: Any) -> None:
    *parents, last = name.split(".")
    node = data
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[last] = value
