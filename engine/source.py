"""Safe parsing of definition text with line/column marks.

Definitions are data written by people, so the parser is strict where YAML is lax:
anchors and aliases are refused (an alias bomb of a few hundred bytes expands to
gigabytes under ``yaml.safe_load``), explicit tags are refused (``!!python/object``
and friends), duplicate keys are refused (YAML silently keeps the last one), and
the text and node count are capped. Every value keeps the place it was written,
so later checks can report ``path:line:col``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from engine.problems import DefinitionError, Problem

MAX_TEXT_BYTES = 1024 * 1024
MAX_NODES = 100_000

Pointer = tuple[str | int, ...]

_STANDARD_TAGS = frozenset(
    {
        "tag:yaml.org,2002:str",
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:null",
        "tag:yaml.org,2002:map",
        "tag:yaml.org,2002:seq",
        "tag:yaml.org,2002:timestamp",
    }
)


@dataclass(frozen=True)
class Document:
    """Parsed data plus where each value was written (pointer -> 1-based line, col)."""

    path: str
    data: Any
    marks: dict[Pointer, tuple[int, int]] = field(default_factory=dict)

    def problem(self, pointer: Pointer, code: str, message: str) -> Problem:
        """A problem located at the value under ``pointer`` (or its nearest parent)."""
        for depth in range(len(pointer), -1, -1):
            mark = self.marks.get(pointer[:depth])
            if mark is not None:
                return Problem(self.path, mark[0], mark[1], code, message)
        return Problem(self.path, 1, 1, code, message)


class _StrictLoader(yaml.SafeLoader):
    """Composes nodes, refusing anchors and aliases while parsing."""

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(event.start_mark, "yaml_alias", "aliases (*name) are not allowed")
        if getattr(event, "anchor", None) is not None:
            raise _Refused(event.start_mark, "yaml_anchor", "anchors (&name) are not allowed")
        return super().compose_node(parent, index)


class _Refused(Exception):
    def __init__(self, mark: Any, code: str, message: str) -> None:
        self.mark = mark
        self.code = code
        self.message = message


def parse_yaml(path: str, text: str) -> Document:
    """Parse one YAML file; raise DefinitionError naming the place on any refusal."""
    _check_size(path, text)
    try:
        loader = _StrictLoader(text)
    except yaml.reader.ReaderError as error:  # a control character: refused before parsing starts
        line = text.count("\n", 0, error.position) + 1
        col = error.position - text.rfind("\n", 0, error.position)
        message = f"unacceptable character #x{error.character:04x}: {error.reason}"
        raise DefinitionError([Problem(path, line, col, "yaml_syntax", message)]) from None
    try:
        root = loader.get_single_node()
        if root is None:
            return Document(path, None, {(): (1, 1)})
        marks: dict[Pointer, tuple[int, int]] = {}
        counter = [0]
        data = _build(loader, root, (), marks, counter)
    except _Refused as refused:
        raise DefinitionError([Problem(path, *_position(refused.mark), refused.code, refused.message)]) from None
    except yaml.MarkedYAMLError as error:
        line, col = _position(error.problem_mark or error.context_mark)
        message = " ".join(part for part in (error.context, error.problem) if part)
        raise DefinitionError([Problem(path, line, col, "yaml_syntax", message)]) from None
    except yaml.YAMLError as error:
        raise DefinitionError([Problem(path, 1, 1, "yaml_syntax", str(error))]) from None
    finally:
        loader.dispose()
    return Document(path, data, marks)


def parse_json(path: str, text: str) -> Document:
    """Parse one JSON file (no marks below the root; JSON files are checked by pointer)."""
    _check_size(path, text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise DefinitionError([Problem(path, error.lineno, error.colno, "json_syntax", error.msg)]) from None
    except RecursionError:
        raise DefinitionError([Problem(path, 1, 1, "too_deep", "the JSON is nested too deeply")]) from None
    return Document(path, data, {(): (1, 1)})


def _position(mark: Any) -> tuple[int, int]:
    """1-based line and column of a PyYAML mark (which counts from 0)."""
    if mark is None:
        return 1, 1
    return int(mark.line) + 1, int(mark.column) + 1


def _check_size(path: str, text: str) -> None:
    size = len(text.encode("utf-8"))
    if size > MAX_TEXT_BYTES:
        raise DefinitionError(
            [Problem(path, 0, 0, "file_too_large", f"the file is {size} bytes; the limit is {MAX_TEXT_BYTES}")]
        )


def _build(
    loader: _StrictLoader,
    node: Node,
    pointer: Pointer,
    marks: dict[Pointer, tuple[int, int]],
    counter: list[int],
) -> Any:
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise _Refused(node.start_mark, "too_many_nodes", f"more than {MAX_NODES} values in one file")
    marks[pointer] = _position(node.start_mark)
    if node.tag not in _STANDARD_TAGS:
        raise _Refused(node.start_mark, "yaml_tag", f"the tag {node.tag!r} is not allowed")
    if isinstance(node, MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
                raise _Refused(key_node.start_mark, "yaml_key", "keys must be plain text")
            key = key_node.value
            if key in result:
                raise _Refused(key_node.start_mark, "duplicate_key", f"the key {key!r} appears twice")
            result[key] = _build(loader, value_node, (*pointer, key), marks, counter)
        return result
    if isinstance(node, SequenceNode):
        return [_build(loader, item, (*pointer, index), marks, counter) for index, item in enumerate(node.value)]
    if node.tag == "tag:yaml.org,2002:timestamp":
        # Dates stay text so that data round-trips through JSON unchanged.
        return node.value
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, KeyError):  # an explicit !!int, !!float or !!bool on a value that is not one
        raise _Refused(
            node.start_mark, "yaml_syntax", f"{node.value!r} cannot be read as !!{node.tag.rsplit(':', 1)[-1]}"
        ) from None
