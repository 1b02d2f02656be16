"""Imports run one way: every sertools module imports only from its own stage
or earlier ones, as listed in docs/design.md ("## Stages"), function-level
imports included; the methods import nothing from the rest of the kit."""
import ast
import re
from pathlib import Path

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
