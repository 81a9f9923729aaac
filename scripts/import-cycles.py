#!/usr/bin/env python3
"""Fails when two or more files of src/ depend on each other (an import cycle).

A file depends on another when it names a path into it: `crate::a::b`,
`super::x`, `self::y`, a `use ...::{...}` group, or, from a `mod.rs`, a bare
path into one of its child modules (`child::item`). Test modules and
comments (doc links) are not dependencies. Cycles are found as the strongly
connected components of that graph, so a cycle through any number of files
is reported, not only pairs.

No crate does this for Rust sources at file granularity (cargo-modules
draws module graphs but needs a nightly-built binary), and the rule is
simple enough to keep here: `make test` runs it.
"""

import os
import re
import sys

ROOT = "src"


def read_sources():
    sources = {}
    for folder, _, names in os.walk(ROOT):
        for name in names:
            if name.endswith(".rs"):
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8") as file:
                    sources[path] = file.read()
    return sources


def module_of(path):
    parts = path[len(ROOT) + 1 : -len(".rs")].split("/")
    return parts[:-1] if parts[-1] in ("mod", "lib", "main") else parts


def resolve(modules, current, segments):
    """The file a path leads into: the deepest module it names."""
    head, rest = segments[0], segments[1:]
    if head == "crate":
        base = []
    elif head == "self":
        base = list(current)
    elif head == "super":
        base = list(current[:-1])
        while rest and rest[0] == "super":
            base, rest = base[:-1], rest[1:]
    else:
        return None
    found = modules.get(tuple(base))
    for segment in rest:
        base.append(segment)
        if tuple(base) not in modules:
            break
        found = modules[tuple(base)]
    return found


def dependencies(sources):
    modules = {tuple(module_of(path)): path for path in sources}
    edges = {path: set() for path in sources}
    for path, text in sources.items():
        current = module_of(path)
        text = re.split(r"#\[cfg\(test\)\]\s*mod tests", text)[0]
        text = re.sub(r"//[^\n]*", "", text)
        targets = []
        for match in re.finditer(r"\b((?:crate|super|self)(?:::\w+)+)", text):
            targets.append(resolve(modules, current, match.group(1).split("::")))
        for match in re.finditer(r"\b((?:crate|super|self)(?:::\w+)*)::\{([^}]*)\}", text):
            prefix = match.group(1).split("::")
            for item in re.findall(r"\b(\w+)", match.group(2)):
                targets.append(resolve(modules, current, prefix + [item]))
        if path.endswith(("mod.rs", "lib.rs")):
            for match in re.finditer(r"(?<![:\w])(\w+)::(?:\w+|\{)", text):
                targets.append(modules.get(tuple(current + [match.group(1)])))
        edges[path] = {target for target in targets if target and target != path}
    return edges


def cycles(edges):
    """Strongly connected components of more than one file (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def main():
    edges = dependencies(read_sources())
    found = cycles(edges)
    for component in found:
        print("import cycle among:", " ".join(component))
    print(f"{len(edges)} files, {sum(len(t) for t in edges.values())} dependencies, {len(found)} cycles")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
