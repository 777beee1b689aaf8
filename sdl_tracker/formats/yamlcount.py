"""YAML within the limits: a composer that counts depth and nodes as aliases would expand them.

With libyaml (the usual case) a first pass over the parser's events measures the document, and
only a document within the limits is then composed, by libyaml too (its composer recurses in C:
it must never see a deep document). Without libyaml the pure-Python composer counts as it goes.
Read through `bounded.yaml_compose`, `yaml_load` and `yaml_document`.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, ScalarEvent

from sdl_tracker.formats import limits as bounded


def document(
    text: str, name: str, kind: str, base: type[Any] | None, *, construct: bool
) -> tuple[Any, Any]:
    """(root node, value when `construct`) of one YAML document within the limits."""
    loader = _loader(text, name, kind, base or yaml.SafeLoader)
    try:
        node = _guarded(loader.get_single_node, name)
        try:
            value = loader.construct_document(node) if construct and node is not None else None
        except ValueError as e:  # an impossible value in a valid shape, e.g. 2024-13-01
            bad = _bad_scalar(node)
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"{bad.value!r} is not a valid {bad.tag.rsplit(':', 1)[-1]} ({e})",
                bad.start_mark,
            ) from e
        return node, value
    finally:
        loader.dispose()


def _bad_scalar(node: Any) -> Any:
    """The scalar whose value could not be constructed (the document's root if none is found)."""
    fresh = yaml.constructor.SafeConstructor()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, yaml.ScalarNode):
            try:
                fresh.construct_object(n, deep=True)
            except ValueError:
                return n
            except yaml.YAMLError:
                continue
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
        elif isinstance(n, yaml.MappingNode):
            stack.extend(item for pair in n.value for item in pair)
    return node


def _guarded(compose: Any, name: str) -> Any:
    try:
        return compose()
    except RecursionError as e:  # a `depth` raised above what Python's stack allows
        raise bounded.too_deep(name, bounded.current().depth) from e


class _Counter:
    """Depth and nodes (aliases expanded) of a document, as its nodes start and end."""

    def __init__(self, name: str, limits: bounded.Limits) -> None:
        self.name = name
        self.limits = limits
        self.nodes = 0
        self.depth = 0
        self.frames: list[tuple[int, str | None, int]] = []
        """Open collections: (nodes before it, its anchor, deepest level seen inside)."""
        self.anchors: dict[str, tuple[int, int]] = {}
        """Anchor -> (nodes, height) of the anchored node."""

    def grow(self, nodes: int, deepest: int) -> None:
        self.nodes += nodes
        if self.nodes > self.limits.yaml_nodes:
            raise bounded.breach(
                self.name,
                f"more than {self.limits.yaml_nodes} YAML nodes once aliases are expanded "
                "(an alias bomb?)",
                "yaml_nodes = ...",
            )
        if deepest > self.limits.depth:
            raise bounded.too_deep(self.name, self.limits.depth)
        if self.frames:
            before, anchor, inner = self.frames[-1]
            if deepest > inner:
                self.frames[-1] = (before, anchor, deepest)

    def alias(self, anchor: str) -> None:
        size, height = self.anchors.get(anchor, (0, 0))
        self.grow(size, self.depth + height)

    def scalar(self, anchor: str | None) -> None:
        self.grow(1, self.depth + 1)
        if anchor:
            self.anchors[anchor] = (1, 1)

    def start(self, anchor: str | None) -> None:
        self.depth += 1
        self.grow(1, self.depth)
        self.frames.append((self.nodes - 1, anchor, self.depth))

    def end(self) -> None:
        before, anchor, inner = self.frames.pop()
        if anchor:
            self.anchors[anchor] = (self.nodes - before, inner - self.depth + 1)
        self.depth -= 1
        if self.frames:
            self.grow(0, inner)

    def event(self, event: Any) -> None:
        if isinstance(event, ScalarEvent):
            self.scalar(event.anchor)
        elif isinstance(event, CollectionStartEvent):
            self.start(event.anchor)
        elif isinstance(event, CollectionEndEvent):
            self.end()
        elif isinstance(event, AliasEvent):
            self.alias(str(event.anchor))


def _python_loader(base: type[Any], counter: _Counter) -> type[Any]:
    """`base` (a pure-Python loader) counting every node as it composes it."""

    class Loader(base):  # type: ignore[misc]
        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()
            if isinstance(event, AliasEvent):
                counter.alias(str(event.anchor))
                return super().compose_node(parent, index)
            if isinstance(event, ScalarEvent):
                counter.scalar(event.anchor)
                return super().compose_node(parent, index)
            counter.start(event.anchor)
            node = super().compose_node(parent, index)
            counter.end()
            return node

    return Loader


def _c_loader(base: type[Any]) -> type[Any] | None:
    """The libyaml loader with `base`'s constructor and resolvers; None without libyaml."""
    if not getattr(yaml, "__with_libyaml__", False):
        return None
    found = _C_LOADERS.get(base)
    if found is None:
        from yaml.cyaml import CParser  # type: ignore[attr-defined]

        class Loader(CParser, base):  # type: ignore[misc]
            def __init__(self, stream: str) -> None:
                CParser.__init__(self, stream)
                yaml.constructor.BaseConstructor.__init__(self)
                yaml.resolver.BaseResolver.__init__(self)

        found = _C_LOADERS[base] = Loader
    return found


_C_LOADERS: dict[type[Any], type[Any]] = {}


def _loader(text: str, name: str, kind: str, base: type[Any]) -> Any:
    """A loader instance for `text`, ready to compose a document within the limits."""
    bounded.check(text, name, kind)
    counter = _Counter(name, bounded.current())
    fast = _c_loader(base)
    if fast is None:
        return _python_loader(base, counter)(text)
    probe = fast(text)
    try:
        while probe.check_event():
            counter.event(probe.get_event())
    except yaml.YAMLError as e:
        if "maximum nesting depth" in str(e):  # libyaml's own limit (1000), met while scanning
            raise bounded.too_deep(name, counter.limits.depth) from e
        raise
    finally:
        probe.dispose()
    return fast(text)
