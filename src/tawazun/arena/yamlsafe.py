"""Bounded YAML reading for files people hand us: one problem per line, never a traceback.

PyYAML's safe loader is safe against code execution but not against input that is merely
hostile or broken: an alias bomb ("billion laughs") expands to gigabytes, a duplicate key
silently replaces the first, an impossible date or a 5,000-digit integer raises a bare
ValueError. This module builds the document from libyaml's event stream itself, so that it
can count as it goes:

* the document may hold at most :data:`MAX_NODES` nodes, aliases counted as the nodes they
  expand to, and aliases may add at most :data:`MAX_ALIAS_NODES` of them (plain single-use
  anchors in ordinary files stay far below both);
* collections may nest at most :data:`MAX_DEPTH` levels; an alias to its own ancestor
  (a recursive structure) is refused;
* a key given twice in one mapping is reported with both line numbers;
* scalars are typed as YAML 1.1 does (the same tags as ``yaml.safe_load``); one that cannot be
  built (``2021-02-30``, an integer over Python's digit limit) is reported with its line;
* only the standard tags are accepted (no ``!!python/...``, ``!!set``, custom ``!tags``).

It returns the plain Python document and a map from each field path to its line number.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from tawazun.errors import InputError

MAX_NODES = 500_000
MAX_ALIAS_NODES = 10_000
MAX_DEPTH = 64

LinePath = tuple[Any, ...]

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVER = Resolver()
_CONSTRUCTOR = SafeConstructor()

_T = "tag:yaml.org,2002:"
_MAP, _SEQ, _STR, _MERGE = _T + "map", _T + "seq", _T + "str", _T + "merge"
_SCALAR_BUILDERS = {
    _T + "null": lambda node: None,
    _T + "bool": _CONSTRUCTOR.construct_yaml_bool,
    _T + "int": _CONSTRUCTOR.construct_yaml_int,
    _T + "float": _CONSTRUCTOR.construct_yaml_float,
    _T + "timestamp": _CONSTRUCTOR.construct_yaml_timestamp,
    _STR: lambda node: node.value,
}


class _Node:
    """A composed node: kind 'scalar' | 'seq' | 'map', with its size in nodes once closed."""

    __slots__ = ("kind", "tag", "value", "line", "size", "open", "items")

    def __init__(self, kind: str, tag: str, line: int, value: Any = None):
        self.kind = kind
        self.tag = tag
        self.line = line
        self.value = value
        self.size = 1
        self.open = kind != "scalar"
        self.items: list[Any] = []  # seq: children; map: [key, value, key, value, ...]


class _Alias:
    __slots__ = ("node", "line")

    def __init__(self, node: _Node, line: int):
        self.node = node
        self.line = line


def _short(tag: str) -> str:
    return "!!" + tag[len(_T):] if tag.startswith(_T) else tag


def _compose(text: str, filename: str) -> _Node | None:
    """Events -> node tree, refusing what would be unbounded. None for an empty document."""

    def refuse(line: int, msg: str) -> InputError:
        return InputError(f"{filename}:{line}: (yaml): {msg}")

    anchors: dict[str, _Node] = {}
    stack: list[_Node] = []
    root: _Node | None = None
    total = alias_nodes = documents = 0

    def attach(item: _Node | _Alias) -> None:
        nonlocal root
        node = item.node if isinstance(item, _Alias) else item
        if stack:
            parent = stack[-1]
            parent.items.append(item)
            parent.size += node.size
        else:
            root = node

    loader = _LOADER(text)
    try:
        while True:
            event = loader.get_event()
            if event is None or isinstance(event, yaml.StreamEndEvent):
                break
            line = event.start_mark.line + 1 if event.start_mark is not None else 1
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise refuse(line, "more than one YAML document in the file (a second '---')")
                continue
            if isinstance(event, yaml.AliasEvent):
                target = anchors.get(event.anchor)
                if target is None:
                    raise refuse(line, f"alias *{event.anchor} refers to no anchor defined before it")
                if target.open:
                    raise refuse(line, f"alias *{event.anchor} refers to a collection that contains it "
                                       "(recursive structures are not allowed)")
                alias_nodes += target.size
                total += target.size
                if alias_nodes > MAX_ALIAS_NODES:
                    raise refuse(line, f"aliases expand to more than {MAX_ALIAS_NODES:,} nodes "
                                       "(an alias bomb?); write the repeated parts out")
                attach(_Alias(target, line))
            elif isinstance(event, yaml.ScalarEvent):
                tag = event.tag if event.tag not in (None, "!") else _RESOLVER.resolve(
                    yaml.ScalarNode, event.value, event.implicit)
                node = _Node("scalar", tag, line,
                             yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style))
                total += 1
                attach(node)
            elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                is_map = isinstance(event, yaml.MappingStartEvent)
                default = _MAP if is_map else _SEQ
                tag = default if event.tag in (None, "!") else event.tag
                if tag != default:
                    raise refuse(line, f"unsupported YAML tag {_short(tag)}")
                node = _Node("map" if is_map else "seq", tag, line)
                total += 1
                if len(stack) >= MAX_DEPTH:
                    raise refuse(line, f"nested more than {MAX_DEPTH} levels deep")
                attach(node)
                stack.append(node)
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                node = stack.pop()
                node.open = False
                if stack:  # the parent counted this child's size when it was 1; add the rest
                    stack[-1].size += node.size - 1
            else:
                continue
            if total > MAX_NODES:
                raise refuse(line, f"more than {MAX_NODES:,} YAML nodes (counting what aliases expand to)")
            anchor = getattr(event, "anchor", None)
            if anchor is not None and not isinstance(event, yaml.AliasEvent):
                anchors[anchor] = stack[-1] if isinstance(event, (yaml.SequenceStartEvent,
                                                                  yaml.MappingStartEvent)) else node
    finally:
        loader.dispose()
    return root


def _build(item: _Node | _Alias, path: LinePath, lines: dict[LinePath, int],
           problems: list[tuple[int, LinePath, str]]) -> Any:
    node = item.node if isinstance(item, _Alias) else item
    lines.setdefault(path, item.line)
    if node.kind == "scalar":
        builder = _SCALAR_BUILDERS.get(node.tag)
        if builder is None:
            problems.append((node.line, path, f"unsupported YAML tag {_short(node.tag)}"))
            return None
        try:
            return builder(node.value)
        except Exception as exc:  # noqa: BLE001 - the builders are pure functions of the text
            problems.append((node.line, path, _scalar_problem(node.value, exc)))
        return None
    if node.kind == "seq":
        return [_build(child, path + (k,), lines, problems) for k, child in enumerate(node.items)]
    out: dict[Any, Any] = {}
    first_line: dict[Any, int] = {}
    merged: list[tuple[_Node | _Alias, int]] = []
    for key_item, value_item in zip(node.items[0::2], node.items[1::2]):
        key_node = key_item.node if isinstance(key_item, _Alias) else key_item
        key_line = key_item.line
        if key_node.kind != "scalar":
            problems.append((key_line, path, "a mapping key must be a plain value, not a list or mapping"))
            continue
        if key_node.tag == _MERGE:
            merged.append((value_item, key_line))
            continue
        key = _build(key_item, path + ("(key)",), {}, problems)
        try:
            hash(key)
        except TypeError:  # pragma: no cover - scalars are hashable
            continue
        if key in first_line:
            problems.append((key_line, path + (key,),
                             f"duplicate key {key!r} (also at line {first_line[key]}); "
                             "each key may appear once in a mapping"))
            continue
        first_line[key] = key_line
        lines[path + (key,)] = key_line
        value_node = value_item.node if isinstance(value_item, _Alias) else value_item
        out[key] = _build(value_item, path + (key,), lines, problems)
        # the value's own line is what people look at for scalar fields
        if value_node.kind == "scalar":
            lines[path + (key,)] = value_item.line
    for value_item, key_line in merged:  # '<<: *base' fills in keys not given explicitly
        value = _build(value_item, path + ("<<",), {}, problems)
        sources = value if isinstance(value, list) else [value]
        if not all(isinstance(s, dict) for s in sources):
            problems.append((key_line, path, "a merge key '<<' needs a mapping or a list of mappings"))
            continue
        for src in sources:
            for k, v in src.items():
                if k not in out:
                    out[k] = v
                    lines.setdefault(path + (k,), key_line)
    return out


def _scalar_problem(node: yaml.ScalarNode, exc: Exception) -> str:
    text = node.value if len(node.value) <= 40 else node.value[:20] + "…" + node.value[-10:]
    if node.tag == _T + "timestamp":
        reason = f" ({exc})" if isinstance(exc, ValueError) else ""
        return f"not a valid date: {text}{reason}"
    if node.tag == _T + "int" and isinstance(exc, ValueError) and "digits" in str(exc):
        digits = sum(ch.isdigit() for ch in node.value)
        return f"integer too long ({digits:,} digits): numbers must lie within ±1e9"
    return f"cannot read {text!r} as {_short(node.tag)}"


def format_path(path: LinePath) -> str:
    """('stances', 3, 'salience') -> 'stances[3].salience'."""
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(document)"


def load_document(text: str, filename: str) -> tuple[Any, dict[LinePath, int]]:
    """(document, line map) of YAML text; InputError with every problem, one line each."""
    try:
        root = _compose(text, filename)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{filename}:{line}: (yaml): bad YAML: {problem}") from None
    if root is None:
        return None, {}
    lines: dict[LinePath, int] = {}
    problems: list[tuple[int, LinePath, str]] = []
    data = _build(root, (), lines, problems)
    if problems:
        raise InputError([f"{filename}:{line}: {format_path(path)}: {msg}" for line, path, msg in problems])
    return data, lines
