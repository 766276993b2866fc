"""Size and depth limits, measured without recursion (threat T3).

Python's ``json.dumps`` and the Rust validator both recurse: a list nested 100,000 deep
raises ``RecursionError`` in the one and overflows the native stack of the other (the
process dies). So everything here walks one level at a time and stops as soon as a limit
is crossed: measuring a hostile value costs no more than the limit allows.

The walk runs on every submission, so it is written for speed (one pass, no per-node
bookkeeping); where a node must be located (a number JSON cannot carry, the point where a
schema gets too deep), a second, slower walk that tracks paths finds it.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterator
from typing import Literal, NamedTuple

type Path = tuple[str | int, ...]


class Measure(NamedTuple):
    """What a walk over a JSON value found.

    ``excess`` is the limit crossed first, if any (``"too_large"`` or ``"too_deep"``), and
    ``where`` the path of a container past the depth limit. ``nodes`` counts the values
    seen (object keys included). ``non_finite`` lists the paths of NaN and infinite
    numbers, which JSON cannot carry and the validator would read as ``null``.
    """

    excess: Literal["too_large", "too_deep"] | None = None
    where: Path = ()
    nodes: int = 0
    non_finite: tuple[Path, ...] = ()


def measure(value: object, *, max_bytes: int, max_depth: int, max_reports: int = 100) -> Measure:
    """Walk ``value`` level by level, estimating its size as compact UTF-8 JSON.

    Stops at the first level holding a container deeper than ``max_depth`` (the root is at
    depth 0), or once the estimate passes ``max_bytes``.
    """
    size = 0
    nodes = 0
    non_finite = False
    root: list[object] = [value]  # the root's parent: its own brackets are not counted
    parents: list[object] = [root]
    depth = 0  # of the children being looked at
    while parents:
        below: list[object] = []
        for parent in parents:
            children: Collection[object]
            if isinstance(parent, dict):
                size += 1 + len(parent) * 2  # braces, colons and commas
                nodes += len(parent)  # the keys
                if size > max_bytes:  # before walking a million members
                    return Measure("too_large", (), nodes)
                for key in parent:
                    size += _text_bytes(key) if type(key) is str else 8
                children = parent.values()
            else:
                assert isinstance(parent, (list, tuple))
                if parent is not root:
                    size += 1 + len(parent)  # brackets and commas (an empty list is 2: counted as 1)
                if size > max_bytes:
                    return Measure("too_large", (), nodes)
                children = parent
            nodes += len(children)
            for child in children:
                kind = type(child)
                if kind is str:
                    size += _text_bytes(child)
                elif kind is int:
                    # str() of a huge int is slow and refused past 4,300 digits; bits/3 bounds the digits.
                    size += child.bit_length() // 3 + 1
                elif kind is dict or kind is list or isinstance(child, (dict, list, tuple)):
                    below.append(child)
                elif isinstance(child, float):
                    size += 24
                    non_finite = non_finite or not math.isfinite(child)
                elif child is None or child is True:
                    size += 4
                elif child is False:
                    size += 5
                else:  # Decimal, int subclasses, or anything the validator will refuse itself
                    size += 24
            if size > max_bytes:
                return Measure("too_large", (), nodes)
        if below and depth > max_depth:
            return Measure("too_deep", _first_container_below(value, max_depth), nodes)
        parents = below
        depth += 1
    # A NamedTuple, not a dataclass: this runs on every submission and is built in a third of the time.
    return Measure(None, (), nodes, tuple(_non_finite(value, max_reports)) if non_finite else ())


def _text_bytes(text: str) -> int:
    if text.isascii():
        return len(text) + 2
    return len(text.encode("utf-8", "replace")) + 2


def _paths(value: object) -> Iterator[tuple[Path, int, object]]:
    """Every node with its path and depth, breadth first (the slow walk)."""
    level: list[tuple[Path, object]] = [((), value)]
    depth = 0
    while level:
        below: list[tuple[Path, object]] = []
        for path, node in level:
            yield path, depth, node
            if isinstance(node, dict):
                below.extend(((*path, key), child) for key, child in node.items())
            elif isinstance(node, (list, tuple)):
                below.extend(((*path, index), child) for index, child in enumerate(node))
        level = below
        depth += 1


def _first_container_below(value: object, max_depth: int) -> Path:
    for path, depth, node in _paths(value):
        if depth > max_depth and isinstance(node, (dict, list, tuple)):
            return path
    return ()


def _non_finite(value: object, limit: int) -> Iterator[Path]:
    count = 0
    for path, _, node in _paths(value):
        if isinstance(node, float) and not math.isfinite(node):
            yield path
            count += 1
            if count == limit:
                return
