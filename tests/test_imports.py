"""Imports run one way: every sertools module imports only from its own stage
or earlier ones, as listed in docs/design.md ("## Stages"), function-level
imports included; the methods import nothing from the rest of the kit."""
import ast
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def modules() -> dict[str, tuple[Path, bool]]:
    out = {}
    for p in sorted((ROOT / "sertools").rglob("*.py")):
        parts = list(p.relative_to(ROOT).with_suffix("").parts)
        is_init = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_init else parts)] = (p, is_init)
    return out


def stages() -> dict[str, int]:
    section = (ROOT / "docs" / "design.md").read_text().split("## Stages", 1)[1].split("\n## ", 1)[0]
    out = {}
    for line in section.splitlines():
        if m := re.match(r"^(\d+)\. [\w -]+: (.*)$", line):
            for name in m.group(2).split(","):
                out[name.strip()] = int(m.group(1))
    return out


def imported(mod: str, is_init: bool, node, known) -> list[str]:
    """The sertools modules an import statement names."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.startswith("sertools")]
    base = mod.split(".") if is_init else mod.split(".")[:-1]
    target = ".".join(base[:len(base) - node.level + 1] + [node.module or ""]).strip(".") if node.level \
        else node.module or ""
    if not target.startswith("sertools"):
        return []
    return [f"{target}.{a.name}" if f"{target}.{a.name}" in known else target for a in node.names]


def test_every_module_is_in_one_stage():
    mods, st = modules(), stages()
    assert sorted(set(mods) - set(st)) == [], "modules missing from docs/design.md's ## Stages"
    assert sorted(set(st) - set(mods)) == [], "stages name modules that do not exist"


def test_no_module_imports_from_a_later_stage():
    mods, st = modules(), stages()
    bad = []
    for mod, (path, is_init) in mods.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for t in imported(mod, is_init, node, mods):
                    if t != mod and st.get(t, 0) > st.get(mod, 0):
                        bad.append(f"{mod} (stage {st[mod]}) imports {t} (stage {st[t]}), line {node.lineno}")
                    if mod.startswith("sertools.methods") and not t.startswith("sertools.methods"):
                        bad.append(f"{mod} imports {t}: methods must stay modality-agnostic")
    assert bad == []


def test_the_check_sees_an_upstream_import():
    """The rule can fail: a config module that imported the training loop would be caught."""
    mods, st = modules(), stages()
    node = ast.parse("from .train import fit").body[0]
    (t,) = imported("sertools.config", False, node, mods)
    assert t == "sertools.train" and st[t] > st["sertools.config"]


def test_no_import_cycle():
    """No two sertools modules import each other, directly or through others
    (function-level imports count: they still tie the two modules together)."""
    mods = modules()
    graph = {m: set() for m in mods}
    for mod, (path, is_init) in mods.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                graph[mod] |= {t for t in imported(mod, is_init, node, mods) if t != mod and t in mods}
    # a package's __init__ re-exporting its own submodules is not a cycle of the design
    graph = {m: {t for t in ts if not t.startswith(m + ".")} for m, ts in graph.items()}
    cycles, state = [], {}

    def visit(m, path):
        state[m] = "open"
        for t in sorted(graph[m]):
            if state.get(t) == "open":
                cycles.append(" -> ".join(path[path.index(t):] + [t]))
            elif t not in state:
                visit(t, path + [t])
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert cycles == []


def test_the_cycle_check_finds_a_cycle(tmp_path, monkeypatch):
    """The check above can fail: two modules that import each other are found."""
    pkg = tmp_path / "sertools"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from .b import g\n")
    (pkg / "b.py").write_text("from .a import f\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    with pytest.raises(AssertionError):
        test_no_import_cycle()
