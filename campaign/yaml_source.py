"""YAML text to plain Python values, keeping where every key and value stood.

PyYAML's node API (libyaml when available) gives each node its line and column;
we turn nodes into values ourselves so that plain scalars follow YAML 1.2's core
schema: ``no`` stays the text "no" (a language code), ``09:00`` stays a time of
day rather than the number 540, and a date stays text for the time rules to read.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from typing import Any

import yaml

from campaign.diagnostics import DiagnosticSink, Position

try:
    _BaseLoader: type = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _BaseLoader = yaml.SafeLoader


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Composes nodes without YAML 1.1 tag resolution: scalars are typed by ``_scalar``."""

    def resolve(self, kind: type, value: object, implicit: object) -> str:
        return ""


FieldPath = tuple[str | int, ...]
#: How deep mappings and lists may nest: a post needs four levels (images → 0 → focus → x).
MAX_DEPTH = 16

_NULLS = {"", "~", "null", "Null", "NULL"}
_TRUES = {"true", "True", "TRUE"}
_FALSES = {"false", "False", "FALSE"}
#: The plain scalars that are not text: null, true and false as YAML 1.2 writes them.
_KEYWORDS: dict[str, Any] = {
    **dict.fromkeys(_NULLS),
    **dict.fromkeys(_TRUES, True),
    **dict.fromkeys(_FALSES, False),
}
#: How every number (_INT, _FLOAT) starts: other plain scalars are text at a glance.
_NUMBER_START = frozenset("0123456789+-.")
_INT = re.compile(r"[-+]?[0-9]+")
#: Longer runs of digits stay text: Python refuses to read them as a number (its guard
#: against quadratic conversion), and no post needs one.
_MAX_DIGITS = 4_000
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")


class SourceMap:
    """Where each value and mapping key of a document starts in its file.

    Keeps the composed node tree and walks it only when a position is asked for:
    positions are needed for problems, which are rare, so none are built up front.
    """

    def __init__(self, root: yaml.Node | None = None, text: str = "") -> None:
        self._root = root
        self._text = text
        self._keys: dict[int, dict[str, tuple[yaml.Node, yaml.Node]]] = {}
        self._line_starts: list[int] | None = None
        self._breaks: dict[FieldPath, tuple[str, list[int]]] = {}
        self._indents: dict[int, int] = {}

    def _walk(self, path: FieldPath) -> tuple[yaml.Node | None, yaml.Node | None, int]:
        """(deepest node found along ``path``, the key node naming it, how deep it got)."""
        node, key_node, depth = self._root, None, 0
        for part in path:
            found: tuple[yaml.Node | None, yaml.Node] | None
            if isinstance(node, yaml.MappingNode) and isinstance(part, str):
                found = self._by_key(node).get(part)
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                found = (None, node.value[part]) if 0 <= part < len(node.value) else None
            else:
                found = None
            if found is None:
                break
            key_node, node = found
            depth += 1
        return node, key_node, depth

    def _by_key(self, node: yaml.MappingNode) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """The (key, value) nodes of a mapping by key (the first of duplicates), built once:
        a file with many problems asks for many positions, each found in constant time."""
        index = self._keys.get(id(node))
        if index is None:
            index = {}
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    index.setdefault(str(key_node.value), (key_node, value_node))
            self._keys[id(node)] = index
        return index

    def of(self, path: FieldPath) -> Position:
        """The position of the value at ``path``, or of its nearest enclosing value."""
        node, _, _ = self._walk(path)
        return _start(node) if node is not None else Position(1, 1)

    def of_key(self, path: FieldPath) -> Position:
        """The position of the key that names ``path`` (falls back to its value)."""
        node, key_node, depth = self._walk(path)
        if depth == len(path) and key_node is not None:
            return _start(key_node)
        return _start(node) if node is not None else Position(1, 1)

    def has(self, path: FieldPath) -> bool:
        """Whether the document has a value at ``path``."""
        return self._walk(path)[2] == len(path)

    def in_text(self, path: FieldPath, text: str, offset: int) -> Position:
        """The position of character ``offset`` inside the text value at ``path``.

        Exact for literal blocks (``caption: |``), where each line of the value is a
        line of the file; elsewhere the start of the value. Each lookup is a binary
        search in line indexes built once, so many findings in one text stay cheap.
        """
        node, _, depth = self._walk(path)
        start = _start(node) if node is not None else Position(1, 1)
        if depth != len(path) or getattr(node, "style", None) != "|":
            return start
        breaks = self._breaks_of(path, text)
        line_index = bisect_right(breaks, offset - 1)
        line_start = breaks[line_index - 1] + 1 if line_index else 0
        indent = self._block_indent(start.line)
        return Position(start.line + 1 + line_index, indent + 1 + offset - line_start)

    def _breaks_of(self, path: FieldPath, text: str) -> list[int]:
        """The offsets of the line breaks in ``text`` (the value at ``path``), found once."""
        cached = self._breaks.get(path)
        if cached is None or cached[0] is not text:
            cached = (text, [m.start() for m in re.finditer("\n", text)])
            self._breaks[path] = cached
        return cached[1]

    def _block_indent(self, indicator_line: int) -> int:
        """The column (0-based) where the text lines of a literal block begin."""
        indent = self._indents.get(indicator_line)
        if indent is None:
            indent = self._indents[indicator_line] = self._find_indent(indicator_line)
        return indent

    def _find_indent(self, indicator_line: int) -> int:
        if self._line_starts is None:
            self._line_starts = [0, *(m.end() for m in re.finditer("\n", self._text))]
        for start in self._line_starts[indicator_line:]:
            end = self._text.find("\n", start)
            line = self._text[start : end if end != -1 else len(self._text)]
            if line.strip():
                return len(line) - len(line.lstrip(" "))
        return 0

    def strings(self) -> Iterator[yaml.ScalarNode]:
        """Every scalar of the document, keys included, in file order."""
        stack: list[yaml.Node] = [self._root] if self._root is not None else []
        while stack:
            node = stack.pop()
            if isinstance(node, yaml.ScalarNode):
                yield node
            elif isinstance(node, yaml.MappingNode):
                stack.extend(part for pair in reversed(node.value) for part in reversed(pair))
            elif isinstance(node, yaml.SequenceNode):
                stack.extend(reversed(node.value))


def _start(node: yaml.Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


def parse_yaml(text: str, sink: DiagnosticSink) -> tuple[Any, SourceMap] | None:
    """Parse one YAML document; on a syntax error, an anchor or alias, or nesting deeper
    than :data:`MAX_DEPTH`, report it and return None."""
    if ("&" in text or "*" in text) and _report_anchors(text, sink):
        return None
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        position = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
        problem = exc.problem or exc.context or "the file is not valid YAML"
        if "nesting depth" in problem:
            _too_deep(sink, position)
            return None
        sink.error(
            position,
            "yaml-syntax",
            f"this is not valid YAML ({problem}). Common causes: a tab used for "
            "indentation, text containing ': ' or starting with '#', '@' or '*' without "
            'quotes around it, or a list item not lined up. Put the text in quotes "…" '
            "or use `caption: |` and indent the text below it.",
        )
        return None
    except yaml.YAMLError as exc:
        sink.error(Position(1, 1), "yaml-syntax", f"this is not valid YAML ({exc}).")
        return None
    if root is None:
        return None, SourceMap()
    converter = _Converter(sink)
    value = converter.value(root, 1)
    if converter.too_deep:
        return None
    return value, SourceMap(root, text)


def _report_anchors(text: str, sink: DiagnosticSink) -> bool:
    """Report every anchor (``&name``) and alias (``*name``); whether there was one.

    Posts never need them, and an alias repeats what it names without costing the
    writer anything: a few lines can stand for millions of values, or for themselves.
    Only files with a ``&`` or ``*`` anywhere are parsed this extra time.
    """
    found = False
    try:
        for event in yaml.parse(text, Loader=_BaseLoader):
            if isinstance(event, yaml.AliasEvent):
                what = f"`*{event.anchor}` repeats the value marked `&{event.anchor}`"
            elif getattr(event, "anchor", None) is not None:
                what = f"`&{event.anchor}` marks a value to repeat elsewhere"
            else:
                continue
            found = True
            mark = event.start_mark
            sink.error(
                Position(mark.line + 1, mark.column + 1),
                "yaml-anchor",
                f"{what}: anchors and aliases are not allowed in a post. Write the value out "
                "in full, or if this is text that starts with '&' or '*', put it in quotes "
                '"…".',
            )
    except yaml.YAMLError:
        pass  # the syntax error is reported by the full parse
    return found


def _too_deep(sink: DiagnosticSink, position: Position) -> None:
    sink.error(
        position,
        "yaml-depth",
        f"lists and keys are nested more than {MAX_DEPTH} levels deep here; a post needs "
        "at most four (images → file). Check the indentation and the brackets [ ] { }.",
    )


class _Converter:
    """Walks a node tree into plain values, reporting duplicate and non-text keys and
    nesting deeper than :data:`MAX_DEPTH` (so never a RecursionError)."""

    def __init__(self, sink: DiagnosticSink) -> None:
        self.sink = sink
        self.too_deep = False

    def value(self, node: yaml.Node, depth: int) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return _scalar(node)
        if depth > MAX_DEPTH:
            if not self.too_deep:
                self.too_deep = True
                _too_deep(self.sink, _start(node))
            return None
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, depth)
        return [self.value(item, depth + 1) for item in node.value]

    def mapping(self, node: yaml.MappingNode, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.sink.error(
                    _start(key_node), "yaml-key", "a key must be a plain word such as `caption`."
                )
                continue
            key = str(key_node.value)
            if key in result:
                self.sink.error(
                    _start(key_node),
                    "duplicate-key",
                    f"`{key}` is given twice (first on line {_first_line(node, key)}); "
                    "keep one of them, or the second silently replaces the first.",
                )
                continue
            if isinstance(value_node, yaml.ScalarNode):  # most values: no call to value()
                result[key] = _scalar(value_node)
            else:
                result[key] = self.value(value_node, depth + 1)
        return result


def _first_line(node: yaml.MappingNode, key: str) -> int:
    """The line of the first text key ``key`` of a mapping (looked for only when it repeats)."""
    return next(
        k.start_mark.line + 1
        for k, _ in node.value
        if isinstance(k, yaml.ScalarNode) and str(k.value) == key
    )


def _scalar(node: yaml.ScalarNode) -> Any:
    value: str = node.value
    if node.style:  # quoted or block scalars are always text (plain: None, or "" in libyaml)
        return value
    if value in _KEYWORDS:
        return _KEYWORDS[value]
    if value[0] not in _NUMBER_START:  # not empty: "" is a keyword
        return value
    if _INT.fullmatch(value):
        return int(value) if len(value) <= _MAX_DIGITS else value
    if _FLOAT.fullmatch(value):
        return float(value)
    return value
