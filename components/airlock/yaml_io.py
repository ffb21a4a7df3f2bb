"""YAML reading for the files a user writes (stack files, ``images.lock``), as the Pulumi CLI
reads them, with bounded time and memory.

The Pulumi CLI reads stack files with ``gopkg.in/yaml.v3`` (v3.0.1 in pulumi/pulumi's
``sdk/go.mod``; ``sdk/go/common/encoding/marshal.go``). This module reads them the same way
where PyYAML's defaults differ, so that a plan sees the values ``pulumi up`` would see:

- **Scalars are yaml.v3's**: booleans only ``true``/``false`` (any case style) — yaml.v3
  reads ``yes``/``no``/``on``/``off`` as strings unless decoded into a typed bool (its README),
  so ``pin: off`` is the string ``"off"``, not ``False`` — and no base-60 numbers or
  timestamps (``10:30`` and ``2024-01-01`` stay strings, as the CLI passes them); tags outside
  JSON's types (``!!binary``, ``!!set``, ``!!timestamp``…) are refused.
- **A key repeated in one mapping is an error** (yaml.v3: "mapping key ... already defined");
  PyYAML silently keeps the last value, which once dropped a ``pin: required``.
- **Aliases are bounded**: a node that contains an alias to itself is refused, and so is a
  document whose aliases expand to more than :data:`MAX_NODES` nodes (a "billion laughs"
  file of 757 bytes) or :data:`MAX_TEXT` characters (one long string aliased many times).
  yaml.v3 refuses both too ("anchor ... value contains itself", "document contains excessive
  aliasing"); the bounds here are counts on the composed graph, checked before anything is
  constructed, so the check itself is linear in the file's size.
- **Nesting is bounded** at :data:`MAX_DEPTH` levels.

Errors never quote the file's text (PyYAML's messages print the offending line, which may
hold a password): they name the source, line, column and the problem.

libyaml parses when PyYAML was built with it (the manylinux wheels are): the pure-Python
parser spends about 2 ms per kilobyte.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_TEXT",
    "YamlError",
    "dump_document",
    "load",
    "load_bytes",
    "safe_load",
]

MAX_NODES = 1_000_000
"""Most nodes a document may expand to through aliases: a stack file or lockfile of thousands
of images is far below it; an alias bomb is far above it."""
MAX_DEPTH = 200
"""Deepest nesting accepted (Kubernetes objects nest about 20 levels)."""
MAX_TEXT = 16 << 20
"""Most characters of scalar text a document may expand to through aliases (16 MiB): one long
string aliased ten thousand times is a bomb of few nodes."""

_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_REPLACED = {_BOOL, _INT, _FLOAT, _TIMESTAMP}


class _Resolver(Resolver):
    """PyYAML's resolver with yaml.v3's scalars: booleans are true/false only, no base-60
    numbers (``10:30`` stays a string), and no timestamps (``2024-01-01`` stays a string)."""


_Resolver.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag not in _REPLACED]
    for first, resolvers in Resolver.yaml_implicit_resolvers.items()
}
_Resolver.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_Resolver.add_implicit_resolver(
    _INT,
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
_Resolver.add_implicit_resolver(
    _FLOAT,
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


class _Constructor(SafeConstructor):
    """Only the types JSON has (what the CLI passes a program): no binary, set, omap, pairs or
    timestamp tags."""


_Constructor.yaml_constructors = {
    tag: constructor
    for tag, constructor in SafeConstructor.yaml_constructors.items()
    if tag is None or tag.rsplit(":", 1)[-1] not in ("binary", "set", "omap", "pairs", "timestamp")
}


def _loader_class() -> Any:
    CParser: Any = getattr(getattr(yaml, "_yaml", None), "CParser", None)  # None without libyaml
    if CParser is not None:

        class CLoader(CParser, _Constructor, _Resolver):  # type: ignore[misc]
            def __init__(self, stream: str) -> None:
                CParser.__init__(self, stream)
                _Constructor.__init__(self)
                _Resolver.__init__(self)

        return CLoader

    from yaml.composer import Composer
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class PyLoader(Reader, Scanner, Parser, Composer, _Constructor, _Resolver):
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)
            _Constructor.__init__(self)
            _Resolver.__init__(self)

    return PyLoader


_LOADER: Any = _loader_class()


class YamlError(ValueError):
    """A YAML document that cannot be read; the message names the source, line and column."""

    def __init__(self, source: str, problem: str, line: int | None = None, column: int | None = None) -> None:
        self.source = source
        self.problem = problem
        self.line = line
        where = source if line is None else f"{source}:{line}" + (f":{column}" if column else "")
        super().__init__(f"{where}: {problem}")


def _at(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _check_graph(root: Node, source: str) -> None:
    """Refuse recursive aliases, alias expansion past MAX_NODES nodes or MAX_TEXT characters,
    deep nesting and duplicate keys.

    Iterative, and each distinct node is visited once: the expanded size of a node is computed
    from its children's (memoised), so an alias bomb costs as much as its text."""
    size: dict[int, tuple[int, int]] = {}
    on_path: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            nodes, text = 1, len(node.value) if isinstance(node, ScalarNode) else 0
            for child in _children(node):
                nodes, text = nodes + size[id(child)][0], text + size[id(child)][1]
            if nodes > MAX_NODES or text > MAX_TEXT:
                line, column = _at(node)
                raise YamlError(
                    source,
                    f"aliases expand this document past {MAX_NODES:,} nodes or {MAX_TEXT:,} characters; "
                    "write the values out instead of nesting aliases",
                    line,
                    column,
                )
            size[key] = (nodes, text)
            continue
        if key in size:
            continue
        if key in on_path:
            line, column = _at(node)
            problem = "an alias refers to a node that contains it (a recursive anchor)"
            raise YamlError(source, problem, line, column)
        if len(on_path) >= MAX_DEPTH:
            line, column = _at(node)
            raise YamlError(source, f"nested deeper than {MAX_DEPTH} levels", line, column)
        if isinstance(node, MappingNode):
            _check_keys(node, source)
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in size)


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [item for pair in node.value for item in pair]
    return []


def _check_keys(node: MappingNode, source: str) -> None:
    seen: dict[tuple[str, str], int] = {}
    for key_node, _value in node.value:
        if not isinstance(key_node, ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
            continue
        # true/True/TRUE are one key once read; so are null/~.
        value = (
            key_node.value.lower() if key_node.tag in (_BOOL, "tag:yaml.org,2002:null") else key_node.value
        )
        identity = (key_node.tag, "" if key_node.tag == "tag:yaml.org,2002:null" else value)
        line, column = _at(key_node)
        if identity in seen:
            raise YamlError(
                source,
                f"key {key_node.value!r} is already defined at line {seen[identity]}; the Pulumi CLI "
                "refuses a repeated key: keep one",
                line,
                column,
            )
        seen[identity] = line


def _check_depth(text: str, source: str) -> None:
    """Refuse deep nesting before composing: libyaml parses iteratively, but composing nodes
    recurses once per level (in C for the libyaml loader, which overflows the C stack at about
    100,000 levels instead of raising)."""
    parser = _LOADER(text)
    depth = 0
    try:
        while (event := parser.get_event()) is not None:
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    mark: Any = event.start_mark
                    raise YamlError(
                        source, f"nested deeper than {MAX_DEPTH} levels", mark.line + 1, mark.column + 1
                    )
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    finally:
        parser.dispose()


def load(text: str, *, source: str = "<yaml>") -> Any:
    """One YAML document as plain data (safe types only), read as the Pulumi CLI reads it."""
    loader = _LOADER(text)
    try:
        _check_depth(text, source)
        node = loader.get_single_node()
        if node is None:
            return None
        _check_graph(node, source)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = " ".join(part for part in (error.context, error.problem) if part) or "invalid YAML"
        line = mark.line + 1 if mark is not None else None
        column = mark.column + 1 if mark is not None else None
        raise YamlError(source, problem, line, column) from None
    except yaml.YAMLError as error:
        raise YamlError(source, f"invalid YAML ({type(error).__name__})") from None
    except YamlError:
        raise
    except (ValueError, TypeError, OverflowError) as error:  # a scalar its tag cannot hold
        raise YamlError(source, f"a value cannot be read ({type(error).__name__})") from None
    finally:
        loader.dispose()


def load_bytes(data: bytes, *, source: str) -> Any:
    """``load`` for a file's bytes: UTF-8 only (what the CLI writes), with a clear error otherwise."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise YamlError(
            source,
            f"is not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start}); save it as UTF-8",
        ) from None
    return load(text.removeprefix("\ufeff"), source=source)


def safe_load(text: str) -> Any:
    """``load`` without a source name (kept for callers that parse text they produced)."""
    return load(text)


def dump_document(value: Any) -> str:
    """YAML for people to read (generated files): keys in the given order, multi-line strings as
    literal blocks (``|``), never flow style."""
    import yaml

    class _Dumper(yaml.SafeDumper):
        pass

    def text(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
        style = "|" if "\n" in data else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)

    _Dumper.add_representer(str, text)
    return yaml.dump(value, Dumper=_Dumper, sort_keys=False, default_flow_style=False)
