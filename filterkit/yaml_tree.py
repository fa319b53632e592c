"""Checks on a composed YAML tree before it is loaded: duplicate keys, alias bombs, cycles.

Composing builds nodes only (no Python objects), as safe as ``yaml.safe_load``. An alias is the same node
reached again, so a walk that follows aliases can take exponential time on nine lines ("billion laughs":
each level repeats the one before ten times) and never ends on a cycle (``a: &r [*r]``). These walks visit each
node once, and :func:`expanded_size` counts what loading would build, with memoisation, so a file whose
aliases expand past :data:`MAX_VALUES` values, or refer to themselves, is refused before anything else reads it.
Every walk is iterative: deep nesting cannot overflow the Python stack here.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_VALUES = 100_000  # a pipeline or experiment config holds a few hundred


def _children(node: Any) -> list:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def duplicate_key(root: Any) -> tuple[str, int] | None:
    """The first key given twice in one mapping, and its line (each node checked once)."""
    seen_nodes: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                    if key_node.value in keys:
                        return key_node.value, key_node.start_mark.line + 1
                    keys.add(key_node.value)
        stack.extend(reversed(_children(node)))
    return None


def expanded_size(root: Any, limit: int = MAX_VALUES) -> tuple[int, int | None]:
    """(values loading would build, capped just past ``limit``; the line of a node that contains itself, or None)."""
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            size[key] = min(limit + 1, 1 + sum(size[id(c)] for c in _children(node)))
            continue
        if key in size:
            continue
        if key in on_path:
            return size.get(id(root), 0), node.start_mark.line + 1
        on_path.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in on_path:
                return 0, child.start_mark.line + 1
            if id(child) not in size:
                stack.append((child, False))
    return size[id(root)], None
