"""Every public class, function and method of sertools says what it is (a docstring)."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def undocumented(path: Path) -> list[str]:
    """Public definitions (module level, and methods of public classes) without a docstring."""
    out = []

    def walk(body, prefix=""):
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                if not ast.get_docstring(node):
                    out.append(f"{path.relative_to(ROOT)}:{node.lineno} {prefix}{node.name}")
                if isinstance(node, ast.ClassDef):
                    walk(node.body, node.name + ".")

    walk(ast.parse(path.read_text()).body)
    return out


def test_every_public_definition_has_a_docstring():
    missing = [m for p in sorted((ROOT / "sertools").rglob("*.py")) for m in undocumented(p)]
    assert missing == []


def test_the_check_finds_a_missing_docstring(tmp_path, monkeypatch):
    import sys
    (tmp_path / "m.py").write_text('def shown():\n    """Has one."""\n\n\nclass Bare:\n    def run(self):\n        pass\n')
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert undocumented(tmp_path / "m.py") == ["m.py:5 Bare", "m.py:6 Bare.run"]
