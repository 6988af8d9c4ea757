"""YAML text to plain Python values, keeping where every key and value stood.

PyYAML's node API (libyaml when available) gives each node its line and column;
we turn nodes into values ourselves so that plain scalars follow YAML 1.2's core
schema: ``no`` stays the text "no" (a language code), ``09:00`` stays a time of
day rather than the number 540, and a date stays text for the time rules to read.
"""

from __future__ import annotations

import re
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

_NULLS = {"", "~", "null", "Null", "NULL"}
_TRUES = {"true", "True", "TRUE"}
_FALSES = {"false", "False", "FALSE"}
_INT = re.compile(r"[-+]?[0-9]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")


class SourceMap:
    """Where each value and mapping key of a document starts in its file.

    Keeps the composed node tree and walks it only when a position is asked for:
    positions are needed for problems, which are rare, so none are built up front.
    """

    def __init__(self, root: yaml.Node | None = None, text: str = "") -> None:
        self._root = root
        self._text = text

    def _walk(self, path: FieldPath) -> tuple[yaml.Node | None, yaml.Node | None, int]:
        """(deepest node found along ``path``, the key node naming it, how deep it got)."""
        node, key_node, depth = self._root, None, 0
        for part in path:
            if isinstance(node, yaml.MappingNode) and isinstance(part, str):
                found = next(
                    ((k, v) for k, v in node.value if getattr(k, "value", None) == part), None
                )
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                found = (None, node.value[part]) if 0 <= part < len(node.value) else None
            else:
                found = None
            if found is None:
                break
            key_node, node = found
            depth += 1
        return node, key_node, depth

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
        line of the file; elsewhere the start of the value.
        """
        node, _, depth = self._walk(path)
        start = _start(node) if node is not None else Position(1, 1)
        if depth != len(path) or getattr(node, "style", None) != "|":
            return start
        line_index = text.count("\n", 0, offset)
        line_start = text.rfind("\n", 0, offset) + 1
        indent = self._block_indent(start.line)
        return Position(start.line + 1 + line_index, indent + 1 + offset - line_start)

    def _block_indent(self, indicator_line: int) -> int:
        """The column (0-based) where the text lines of a literal block begin."""
        for line in self._text.splitlines()[indicator_line:]:
            if line.strip():
                return len(line) - len(line.lstrip(" "))
        return 0


def _start(node: yaml.Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


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
    if root is None:
        return None, SourceMap()
    return _Converter(sink).value(root), SourceMap(root, text)


class _Converter:
    """Walks a node tree into plain values, reporting duplicate and non-text keys."""

    def __init__(self, sink: DiagnosticSink) -> None:
        self.sink = sink

    def value(self, node: yaml.Node) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return _scalar(node)
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node)
        return [self.value(item) for item in node.value]

    def mapping(self, node: yaml.MappingNode) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_lines: dict[str, int] = {}
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
                    f"`{key}` is given twice (first on line {first_lines[key]}); "
                    "keep one of them, or the second silently replaces the first.",
                )
                continue
            first_lines[key] = key_node.start_mark.line + 1
            result[key] = self.value(value_node)
        return result


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
