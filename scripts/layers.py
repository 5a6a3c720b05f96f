"""Checks keras-gan's import structure: every import (module level or inside a function)
goes down the layers below or stays in its own layer, and no modules import each other
in a circle. Prints the module graph by layer; exits 1 naming each violation.

    python scripts/layers.py            # the check (tests/test_layers.py runs it too)
    python scripts/layers.py --graph    # also every module's imports
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"keras_gan": "keras_gan", "keras_gan_cli": "cli", "keras_gan_serving": "serving"}

# Bottom first. A module belongs to the first layer one of whose prefixes it starts with.
LAYERS = [
    ("base", ["keras_gan", "keras_gan.files", "keras_gan.registry", "keras_gan.images",
              "keras_gan.noise", "keras_gan.regularization", "keras_gan.augment",
              "keras_gan.export.layout", "keras_gan.progress"]),
    ("losses", ["keras_gan.losses"]),
    ("data", ["keras_gan.data"]),
    ("metrics", ["keras_gan.metrics"]),
    ("models", ["keras_gan.models"]),
    ("config", ["keras_gan.config", "keras_gan.presets"]),
    ("runs", ["keras_gan.checkpoints", "keras_gan.runs"]),
    ("export", ["keras_gan.export"]),
    ("sampling", ["keras_gan.sampling"]),
    ("training", ["keras_gan.callbacks", "keras_gan.distributed", "keras_gan.training"]),
    ("products", ["keras_gan.fonts", "keras_gan.tfx", "keras_gan.evaluation"]),
    ("serving", ["keras_gan_serving"]),
    ("cli", ["keras_gan_cli"]),
]  # fmt: skip


def modules() -> dict[str, Path]:
    found = {}
    for package, folder in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([package, *parts])] = path
    return found


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules `name` imports anywhere in its file (`from a import b` counts
    `a.b` when that is a module, else `a`)."""
    is_package = path.name == "__init__.py"
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                parent = name.split(".")[: len(name.split(".")) - node.level + is_package]
                base = ".".join(parent + ([base] if base else []))
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `import a.b.c` names a.b.c's packages too
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def layer_of(name: str) -> int:
    best, length = None, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > length:
                best, length = index, len(prefix)
    if best is None:
        raise SystemExit(f"module {name} is in no layer: add it to LAYERS in {__file__}")
    return best


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def package_parents(name: str, graph: dict[str, set[str]]) -> set[str]:
    """A package's `__init__` runs before any of its modules: not a real edge back."""
    return {p for p in graph if name.startswith(p + ".")}


def check(show_graph: bool = False) -> list[str]:
    found = modules()
    graph = {name: imports(name, path, set(found)) for name, path in found.items()}
    problems = []
    for name, targets in sorted(graph.items()):
        for target in sorted(targets):
            if layer_of(target) > layer_of(name):
                problems.append(
                    f"upward import: {name} ({LAYERS[layer_of(name)][0]}) imports {target} "
                    f"({LAYERS[layer_of(target)][0]})"
                )
    # An __init__ that re-exports its own modules is not a circle with them.
    acyclic = {n: {t for t in ts if t not in package_parents(n, graph)} for n, ts in graph.items()}
    for component in circles(acyclic):
        problems.append("import circle: " + " <-> ".join(component))
    for index, (layer, _) in enumerate(LAYERS):
        members = sorted(n for n in graph if layer_of(n) == index)
        lines = sum(len(found[n].read_text(encoding="utf-8").splitlines()) for n in members)
        print(f"{index:2d} {layer:9} {len(members):3d} modules {lines:6d} lines")
        if show_graph:
            for n in members:
                print(f"     {n} -> {', '.join(sorted(graph[n])) or '-'}")
    return problems


if __name__ == "__main__":
    problems = check("--graph" in sys.argv)
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problem(s)")
    sys.exit(1 if problems else 0)
