"""YAML text to plain Python values, keeping where every key and value stood.

PyYAML's node API (libyaml when available) gives each node its line and column;
we turn nodes into values ourselves so that plain scalars follow YAML 1.2's core
schema: ``no`` stays the text "no" (a language code), ``09:00`` stays a time of
day rather than the number 540, and a date stays text for the time rules to read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from campaign.diagnostics import DiagnosticSink, Position

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # PyYAML built without libyaml
    _Loader = yaml.SafeLoader

FieldPath = tuple[str | int, ...]

_NULLS = {"", "~", "null", "Null", "NULL"}
_TRUES = {"true", "True", "TRUE"}
_FALSES = {"false", "False", "FALSE"}
_INT = re.compile(r"[-+]?[0-9]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")


@dataclass
class SourceMap:
    """Where each value (and each mapping key) of a document starts in its file."""

    values: dict[FieldPath, Position] = field(default_factory=dict)
    keys: dict[FieldPath, Position] = field(default_factory=dict)
    literal_blocks: set[FieldPath] = field(default_factory=set)

    def of(self, path: FieldPath) -> Position:
        """The position of the value at ``path``, or of its nearest enclosing value."""
        while path:
            if path in self.values:
                return self.values[path]
            path = path[:-1]
        return self.values.get((), Position(1, 1))

    def of_key(self, path: FieldPath) -> Position:
        """The position of the key that names ``path`` (falls back to its value)."""
        return self.keys.get(path) or self.of(path)

    def in_text(self, path: FieldPath, text: str, offset: int) -> Position:
        """The position of character ``offset`` inside the text value at ``path``.

        Exact for literal blocks (``caption: |``), where each line of the value is a
        line of the file; elsewhere the start of the value.
        """
        start = self.of(path)
        if path not in self.literal_blocks:
            return start
        line_index = text.count("\n", 0, offset)
        line_start = text.rfind("\n", 0, offset) + 1
        indent = self.values.get((*path, "#indent"), Position(0, 0)).column
        return Position(start.line + 1 + line_index, indent + 1 + offset - line_start)


def parse_yaml(text: str, sink: DiagnosticSink) -> tuple[Any, SourceMap] | None:
    """Parse one YAML document; on a syntax error, report it and return None."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        position = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
        problem = exc.problem or exc.context or "the file is not valid YAML"
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
    source = SourceMap()
    if root is None:
        return None, source
    return _Converter(text, source, sink).value(root, ()), source


class _Converter:
    """Walks a node tree into values, recording positions in a :class:`SourceMap`."""

    def __init__(self, text: str, source: SourceMap, sink: DiagnosticSink) -> None:
        self.lines = text.splitlines()
        self.source = source
        self.sink = sink

    def value(self, node: yaml.Node, path: FieldPath) -> Any:
        self.source.values[path] = Position(node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.value(item, (*path, i)) for i, item in enumerate(node.value)]
        if node.style == "|":
            self.source.literal_blocks.add(path)
            self.source.values[(*path, "#indent")] = Position(0, self.block_indent(node))
        return _scalar(node)

    def mapping(self, node: yaml.MappingNode, path: FieldPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key_position = Position(key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if not isinstance(key_node, yaml.ScalarNode):
                self.sink.error(
                    key_position, "yaml-key", "a key must be a plain word such as `caption`."
                )
                continue
            key = str(key_node.value)
            if key in result:
                first = self.source.keys[(*path, key)]
                self.sink.error(
                    key_position,
                    "duplicate-key",
                    f"`{key}` is given twice (first on line {first.line}); "
                    "keep one of them, or the second silently replaces the first.",
                )
                continue
            self.source.keys[(*path, key)] = key_position
            result[key] = self.value(value_node, (*path, key))
        return result

    def block_indent(self, node: yaml.ScalarNode) -> int:
        """The column (0-based) where the text lines of a literal block begin."""
        for line in self.lines[node.start_mark.line + 1 :]:
            if line.strip():
                return len(line) - len(line.lstrip(" "))
        return node.start_mark.column


def _scalar(node: yaml.ScalarNode) -> Any:
    value: str = node.value
    if node.style:  # quoted or block scalars are always text (plain: None, or "" in libyaml)
        return value
    if value in _NULLS:
        return None
    if value in _TRUES:
        return True
    if value in _FALSES:
        return False
    if _INT.fullmatch(value):
        return int(value)
    if _FLOAT.fullmatch(value):
        return float(value)
    return value
