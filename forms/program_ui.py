"""A program's form UI in every language: ``form.ui.yaml`` (or a default one) and ``locale/*.yaml``.

``load_program_ui`` is the one entry point for callers holding a program's files (relative
name -> text). It reads the locale files, which translate texts as written in the program's
first language (gettext-style, ``"Full name": 全名``); loads ``form.ui.yaml`` with them, or
builds a default UI when the program has none; and checks that every text the form takes
from the JSON Schema (titles, descriptions, choices) is translated. Every problem is located
``path:line:col`` with the path relative to the program folder, for the caller to prefix.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
from bisect import bisect_right
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from engine.loading import FORM_FILE
from engine.problems import DefinitionError, Problem
from engine.source import Document, Pointer, parse_yaml
from forms.errors import pointer_from
from forms.tree import WORDS
from forms.ui import (
    ADDRESS_PARTS,
    Page,
    Text,
    UiField,
    UiSchema,
    _as_text,
    _properties,
    _types,
    default_widget,
    load_ui,
)

__all__ = ["DEFAULT_PAGE_ID", "LOCALE_FOLDER", "UI_FILE", "default_ui", "load_program_ui"]

UI_FILE: Final = "form.ui.yaml"
LOCALE_FOLDER: Final = "locale/"
DEFAULT_PAGE_ID: Final = "answers"
"""The id of the one page a program without ``form.ui.yaml`` gets."""

_LOCALE_FILE: Final = re.compile(r"locale/(?P<lang>[^/]+)\.yaml\Z")
_SHIPPED_FOLDER: Final = "forms/"
_DEFAULT_TITLE: Final = Text((("en", "Your application"), ("zh-Hans", "您的申请")))
_MAX_REF_HOPS: Final = 32
_MAX_JSON_DEPTH: Final = 100
_CHOICE_WIDGETS: Final = frozenset({"select", "radios", "checkboxes", "yes/no"})


def load_program_ui(
    files: Mapping[str, str], schema: Mapping[str, Any], *, languages: tuple[str, ...]
) -> tuple[UiSchema | None, list[Problem]]:
    """The program's UI schema, and every problem (errors and warnings), sorted by place.

    ``files`` are the program's files by name relative to its folder; ``form.ui.yaml`` and
    ``locale/<language>.yaml`` are read from them, and ``form.schema.json`` (when present) only
    to give line numbers to the schema texts warned about. Without ``form.ui.yaml`` the UI is
    ``default_ui``. The ``UiSchema`` (carrying the translations and every warning) is returned
    only when there is no error. Problem paths are relative (``locale/zh-Hans.yaml``).
    """
    if not languages:
        raise ValueError("languages must name at least one language")
    problems: list[Problem] = []
    locales = _read_locales(files, languages, problems)
    translations = {locale.language: locale.entries for locale in locales}
    ui: UiSchema | None = None
    if UI_FILE in files:
        try:
            ui = load_ui(UI_FILE, files[UI_FILE], schema, languages=languages, translations=translations)
        except DefinitionError as error:
            problems.extend(error.problems)
    else:
        ui = default_ui(schema, languages=languages, translations=translations, schema_text=files.get(FORM_FILE))
    if ui is not None:
        problems.extend(ui.warnings)
        problems.extend(_untranslated(schema, ui, _JsonMarks(files.get(FORM_FILE)), default=UI_FILE not in files))
    known = _known_texts(files, schema)
    if known is not None:  # when form.ui.yaml cannot be read, which entries it uses is unknown
        problems.extend(_unused(locales, known))
    problems.sort(key=lambda problem: (problem.path, problem.line, problem.col))
    if ui is None or any(problem.severity == "error" for problem in problems):
        return None, problems
    return dataclasses.replace(ui, warnings=tuple(p for p in problems if p.severity == "warning")), problems


# --------------------------------------------------------------------------- locale files


@dataclass(frozen=True, slots=True)
class _Locale:
    language: str
    document: Document
    entries: dict[str, str]


def _read_locales(files: Mapping[str, str], languages: tuple[str, ...], problems: list[Problem]) -> list[_Locale]:
    locales: list[_Locale] = []
    for name in sorted(files):
        if not name.startswith(LOCALE_FOLDER):
            continue
        match = _LOCALE_FILE.match(name)
        if match is None:
            problems.append(
                Problem(
                    name,
                    0,
                    0,
                    "invalid_file_name",
                    "locale files are named locale/<language>.yaml, e.g. locale/zh-Hans.yaml",
                )
            )
            continue
        language = match["lang"]
        if language == languages[0]:
            others = ", ".join(languages[1:]) or "none"
            problems.append(
                Problem(
                    name,
                    0,
                    0,
                    "invalid_locale",
                    f"{language} is the language the program's texts are written in, so it needs no locale file; "
                    f"the program's other languages are: {others}",
                )
            )
            continue
        if language not in languages:
            problems.append(
                Problem(
                    name,
                    0,
                    0,
                    "unknown_language",
                    f"{language!r} is not one of the program's languages ({', '.join(languages)}); "
                    "add it to languages in program.yaml or remove this file",
                )
            )
            continue
        try:
            document = parse_yaml(name, files[name])
        except DefinitionError as error:
            problems.extend(error.problems)
            continue
        locales.append(_Locale(language, document, _entries(document, problems)))
    return locales


def _entries(document: Document, problems: list[Problem]) -> dict[str, str]:
    data = document.data
    if data is None:
        return {}
    if not isinstance(data, dict):
        problems.append(
            document.problem(
                (),
                "invalid_locale",
                "a locale file maps each text, as written in the first language, to its translation, "
                'as "About you": 关于您',
            )
        )
        return {}
    entries: dict[str, str] = {}
    for source, translated in data.items():
        if isinstance(translated, str) and translated.strip():
            entries[source] = translated
        else:
            problems.append(
                document.problem(
                    (source,),
                    "invalid_text",
                    f"the translation of {source!r} must be words; "
                    "put it in quotes if it reads as a number, yes/no or nothing",
                )
            )
    return entries


def _unused(locales: list[_Locale], known: set[str]) -> Iterator[Problem]:
    for locale in locales:
        for source in locale.entries:
            if source not in known:
                found = locale.document.problem(
                    (source,),
                    "unused_translation",
                    f"{source!r} is not a text of form.ui.yaml or form.schema.json, so this translation is "
                    "never shown; check its spelling against the English text",
                )
                yield dataclasses.replace(found, severity="warning")


def _known_texts(files: Mapping[str, str], schema: Mapping[str, Any]) -> set[str] | None:
    """Every text a locale entry may translate: form.ui.yaml's, the schemas' and the built-in words.

    None when ``form.ui.yaml`` cannot be read (``load_ui`` reports why).
    """
    known = {text.pick("en") for text in (*WORDS.values(), _DEFAULT_TITLE)}
    _schema_texts(schema, known, 0)
    # The other schemas of the program (a request's answer form, a caseworker's task form) are
    # translated by the same locale files, so their texts are not "unused" either.
    for name, text in files.items():
        if name.startswith(_SHIPPED_FOLDER) and name.endswith(".json"):
            with contextlib.suppress(ValueError, RecursionError):
                _schema_texts(json.loads(text), known, 0)
    if UI_FILE in files:
        try:
            _strings(parse_yaml(UI_FILE, files[UI_FILE]).data, known)
        except DefinitionError:
            return None
    return known


def _strings(value: object, found: set[str]) -> None:
    if isinstance(value, str):
        found.add(value)
    elif isinstance(value, dict):
        for item in value.values():
            _strings(item, found)
    elif isinstance(value, list):
        for item in value:
            _strings(item, found)


def _schema_texts(node: object, found: set[str], depth: int) -> None:
    """Titles, descriptions, ``oneOf`` titles and text choices anywhere in the schema."""
    if depth > _MAX_JSON_DEPTH:
        return
    if isinstance(node, list):
        for item in node:
            _schema_texts(item, found, depth + 1)
        return
    if not isinstance(node, Mapping):
        return
    for key, value in node.items():
        if key in ("title", "description") and isinstance(value, str):
            found.add(value)
        elif key == "enum" and isinstance(value, list):
            found.update(choice for choice in value if isinstance(choice, str))
        elif key == "const" and isinstance(value, str):
            found.add(value)
        else:
            _schema_texts(value, found, depth + 1)


# --------------------------------------------------------------------------- the default UI


def default_ui(
    schema: Mapping[str, Any],
    *,
    languages: tuple[str, ...],
    translations: Mapping[str, Mapping[str, str]] | None = None,
    schema_text: str | None = None,
) -> UiSchema:
    """The UI of a program without ``form.ui.yaml``: one page asking every question in schema order.

    The page's id is ``answers`` and its title the schema's ``title`` (translated by the locale
    files). Each top-level property is asked with its default widget: an array of objects is a
    repeat of every item property, an address or signature object its widget, and any other
    object is asked property by property (``income.monthly``). A property that no widget can
    ask is left off, reported as the warning ``field_not_on_any_page`` at its place in
    ``form.schema.json`` (``schema_text`` gives the line numbers).
    """
    if not languages:
        raise ValueError("languages must name at least one language")
    translations = translations or {}
    marks = _JsonMarks(schema_text)
    warnings: list[Problem] = []
    unplaced: list[str] = []
    root_pointer, root = _follow(schema, ())
    fields = _default_fields(schema, root or {}, root_pointer, "", marks, warnings, unplaced, in_item=False)
    title = root.get("title") if root is not None else None
    pairs: list[tuple[str, str]] = []
    if isinstance(title, str) and title.strip():
        pairs.append((languages[0], title))
        pairs.extend((tag, translations[tag][title]) for tag in languages[1:] if title in translations.get(tag, {}))
    else:  # the built-in title, unless the locale files translate its English
        built_in = dict(_DEFAULT_TITLE.translations)
        for tag in languages:
            words = translations.get(tag, {}).get(built_in["en"]) or built_in.get(tag)
            if words:
                pairs.append((tag, words))
    page = Page(DEFAULT_PAGE_ID, Text(tuple(pairs)), fields=tuple(fields))
    return UiSchema((page,), (), languages, tuple(warnings), tuple(unplaced), translations)


def _default_fields(
    schema: Mapping[str, Any],
    node: Mapping[str, Any],
    pointer: Pointer,
    prefix: str,
    marks: _JsonMarks,
    warnings: list[Problem],
    unplaced: list[str],
    *,
    in_item: bool,
) -> list[UiField]:
    fields: list[UiField] = []
    for name in _properties(node):
        full = f"{prefix}{name}"
        child_pointer, child = _follow(schema, (*pointer, "properties", name))
        child = child or {}
        widget = default_widget(schema, child)
        if widget == "repeat" and not in_item:
            item_pointer, item = _follow(schema, (*child_pointer, "items"))
            items = _default_fields(schema, item or {}, item_pointer, "", marks, warnings, [], in_item=True)
            fields.append(UiField(full, "repeat", items=tuple(items)))
        elif widget is not None and widget != "repeat":
            fields.append(UiField(full, widget))
        elif widget is None and "object" in _types(child) and _properties(child):
            fields.extend(
                _default_fields(schema, child, child_pointer, f"{full}.", marks, warnings, unplaced, in_item=in_item)
            )
        else:
            why = "a list inside a repeated item" if widget == "repeat" else "something no widget asks for"
            if not in_item:
                unplaced.append(full)
            where = "the items of a list" if in_item else "the form"
            warnings.append(
                marks.problem(
                    child_pointer,
                    "field_not_on_any_page",
                    f"{full!r} is {why}, so the default page of {where} cannot ask it; "
                    "write a form.ui.yaml that places it (or drop it from the schema)",
                    severity="warning",
                )
            )
    return fields


# --------------------------------------------------------------------------- schema texts shown


def _untranslated(schema: Mapping[str, Any], ui: UiSchema, marks: _JsonMarks, *, default: bool) -> Iterator[Problem]:
    """A warning for each text taken from the schema that some language has no translation of."""
    others = ui.languages[1:]
    if not others:
        return
    shown: list[tuple[Pointer, str, str]] = []
    title = schema.get("title")
    if default and isinstance(title, str) and title.strip():
        shown.append((("title",), "title", title))
    for page in ui.pages:
        for field in page.fields:
            shown.extend(_shown_texts(schema, field, ()))
    seen: set[Pointer] = set()
    for pointer, what, text in shown:
        if pointer in seen:
            continue
        seen.add(pointer)
        if what == "name":
            words = text.replace("_", " ").strip()
            yield marks.problem(
                pointer,
                "untranslated_text",
                f"{text!r} has no title here and no label in form.ui.yaml, so every language shows its name, "
                f"{words[:1].upper() + words[1:]!r}; give it a title (and translate that) or a label",
                severity="warning",
            )
            continue
        missing = [tag for tag in others if text not in ui.translations.get(tag, {})]
        if missing:
            quoted = json.dumps(text, ensure_ascii=False)
            files = " and ".join(f"locale/{tag}.yaml" for tag in missing)
            yield marks.problem(
                pointer,
                "untranslated_text",
                f"the {what} {quoted} has no {', '.join(missing)} translation, so it is shown untranslated; "
                f"add {quoted}: ... to {files}",
                severity="warning",
            )


def _shown_texts(schema: Mapping[str, Any], field: UiField, within: Pointer) -> Iterator[tuple[Pointer, str, str]]:
    """(where, what, text) for each text ``render_tree`` takes from the schema for this field."""
    located = _locate(schema, within, field.name)
    if located is None:
        return
    pointer, node = located
    title = node.get("title")
    if field.label is None:
        if isinstance(title, str) and title:
            yield (*pointer, "title"), "title", title
        else:
            yield pointer, "name", field.name.split(".")[-1]
    description = node.get("description")
    if field.hint is None and isinstance(description, str) and description:
        yield (*pointer, "description"), "description", description
    if field.widget == "repeat":
        item_pointer, _ = _follow(schema, (*pointer, "items"))
        for item_field in field.items:
            yield from _shown_texts(schema, item_field, item_pointer)
    elif field.widget in ("address", "signature") and "object" in _types(node):
        for part in ADDRESS_PARTS if field.widget == "address" else ("name", "date"):
            if part not in _properties(node):
                continue
            part_pointer, part_node = _follow(schema, (*pointer, "properties", part))
            part_node = part_node or {}
            for key in ("title", "description"):
                value = part_node.get(key)
                if isinstance(value, str) and value:
                    yield (*part_pointer, key), key, value
    elif field.widget in _CHOICE_WIDGETS:
        if field.widget == "checkboxes":
            pointer, items = _follow(schema, (*pointer, "items"))
            node = items or {}
        yield from _choice_texts(node, pointer, {value for value, _ in field.options}, field.widget)


def _choice_texts(
    node: Mapping[str, Any], pointer: Pointer, labelled: set[str], widget: str
) -> Iterator[tuple[Pointer, str, str]]:
    kinds = _types(node) if "type" in node else set()
    if widget == "yes/no" or (kinds == {"boolean"} and "enum" not in node):
        return  # built-in yes and no
    enum = node.get("enum")
    one_of = node.get("oneOf")
    if isinstance(enum, list):
        for index, value in enumerate(enum):
            if value is not None and _as_text(value) not in labelled and isinstance(value, str):
                yield (*pointer, "enum", index), "choice", value
    elif isinstance(one_of, list):
        for index, item in enumerate(one_of):
            if not isinstance(item, Mapping) or "const" not in item or _as_text(item["const"]) in labelled:
                continue
            title = item.get("title")
            if isinstance(title, str) and title:
                yield (*pointer, "oneOf", index, "title"), "choice", title
            elif isinstance(item["const"], str):
                yield (*pointer, "oneOf", index, "const"), "choice", item["const"]


# --------------------------------------------------------------------------- schema places


def _at(schema: Mapping[str, Any], pointer: Pointer) -> object:
    node: object = schema
    for part in pointer:
        if isinstance(node, Mapping):
            node = node.get(str(part))
        elif isinstance(node, list) and str(part).isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _follow(schema: Mapping[str, Any], pointer: Pointer) -> tuple[Pointer, dict[str, Any] | None]:
    """Where the subschema at ``pointer`` is written once local ``$ref``s are followed, and it."""
    for _ in range(_MAX_REF_HOPS):
        node = _at(schema, pointer)
        if not isinstance(node, Mapping):
            return pointer, None
        ref = node.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#"):
            return pointer, dict(node)
        pointer = tuple(part.replace("~1", "/").replace("~0", "~") for part in ref[1:].split("/")[1:])
    return pointer, None


def _locate(schema: Mapping[str, Any], within: Pointer, name: str) -> tuple[Pointer, dict[str, Any]] | None:
    """Like ``schema_at``, but also where the subschema is written."""
    pointer, node = _follow(schema, within)
    for segment in name.split(".") if name else ():
        if node is None:
            return None
        if "array" in _types(node) and (segment == "*" or segment.isdigit()):
            pointer, node = _follow(schema, (*pointer, "items"))
        else:
            pointer, node = _follow(schema, (*pointer, "properties", segment))
    return (pointer, node) if node is not None else None


class _JsonMarks:
    """Where each value of ``form.schema.json`` is written (JSON pointer -> line, col)."""

    def __init__(self, text: str | None) -> None:
        self.text = text or ""
        self.marks: dict[Pointer, tuple[int, int]] = {}
        self.starts = [0, *(index + 1 for index, char in enumerate(self.text) if char == "\n")]
        self.decoder = json.JSONDecoder()
        if text:
            # Text that is not JSON keeps the marks found so far; the loader reports its problems.
            with contextlib.suppress(ValueError, IndexError, RecursionError):
                self.value(0, (), 0)

    def problem(self, pointer: Pointer, code: str, message: str, *, severity: str) -> Problem:
        """A problem at the value under ``pointer`` (or its nearest parent), naming the pointer."""
        line, col = 1, 1
        for depth in range(len(pointer), -1, -1):
            normalised = tuple(str(part) for part in pointer[:depth])
            if normalised in self.marks:
                line, col = self.marks[normalised]
                break
        where = pointer_from(pointer) or "/"
        return Problem(FORM_FILE, line, col, code, f"at {where}: {message}", severity)

    def skip(self, index: int) -> int:
        while index < len(self.text) and self.text[index] in " \t\r\n":
            index += 1
        return index

    def value(self, index: int, pointer: tuple[str, ...], depth: int) -> int:
        if depth > _MAX_JSON_DEPTH:
            raise ValueError("too deep")
        index = self.skip(index)
        line = bisect_right(self.starts, index)
        self.marks[pointer] = (line, index - self.starts[line - 1] + 1)
        opening = self.text[index]
        if opening not in "{[":
            _, end = self.decoder.raw_decode(self.text, index)
            return end
        closing = "}" if opening == "{" else "]"
        index = self.skip(index + 1)
        if self.text[index] == closing:
            return index + 1
        count = 0
        while True:
            if opening == "{":
                key, index = self.decoder.raw_decode(self.text, self.skip(index))
                index = self.skip(index)
                if self.text[index] != ":":
                    raise ValueError("expected :")
                index = self.value(index + 1, (*pointer, str(key)), depth + 1)
            else:
                index = self.value(index, (*pointer, str(count)), depth + 1)
            count += 1
            index = self.skip(index)
            if self.text[index] == ",":
                index += 1
                continue
            if self.text[index] != closing:
                raise ValueError(f"expected {closing}")
            return index + 1
