"""Layering: a family's model code depends only on the layers below it (docs/architecture.md).

Model modules (everything in a family package except its checks, calibration, reports, studies
and planning tools) import only the stdlib, third-party numerics, ``hwsim.contract``,
``hwsim.formats``, ``hwsim.workload.ops``, ``hwsim.tech``, ``hwsim.errors``, the shared
``hwsim.families.tile`` and their own family, at module level and inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "hwsim"
FAMILIES = PKG / "families"
# modules of a family package that are not the cost model: they may use the whole library
NOT_MODEL = ("checks", "fit", "report", "compare", "study", "planning")
ALLOWED = ("hwsim.contract", "hwsim.formats", "hwsim.workload.ops", "hwsim.tech",
           "hwsim.errors", "hwsim.families.tile",
           "hwsim.sim.program")  # the tile-program types a family's sim.py builds
MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 100


def _module_name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """Absolute names of every hwsim module ``path`` imports, with line numbers."""
    mod = _module_name(path)
    pkg = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")
                base = base[:len(base) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            out += [(node.lineno, f"{name}.{a.name}") for a in node.names]
    return [(n, x) for n, x in out if x == "hwsim" or x.startswith("hwsim.")]


def _model_modules() -> list[Path]:
    return sorted(p for p in FAMILIES.rglob("*.py")
                  if not any(p.stem.startswith(n) for n in NOT_MODEL)
                  and p != FAMILIES / "__init__.py")


@pytest.mark.parametrize("path", _model_modules(), ids=lambda p: str(p.relative_to(PKG)))
def test_model_modules_import_only_lower_layers(path):
    own = ".".join(_module_name(path).split(".")[:3])  # hwsim.families.<name>
    bad = []
    for line, name in _imports(path):
        if name.startswith(own + ".") or any(name == a or name.startswith(a + ".")
                                             for a in ALLOWED):
            continue
        if path.name == "__init__.py" and name.startswith(own):
            continue
        bad.append(f"{path.relative_to(PKG)}:{line} imports {name}")
    assert not bad, "\n".join(bad)


def test_every_family_has_one_home():
    from hwsim.families import REGISTRY
    for name, fam in REGISTRY.items():
        for cls in fam.models.values():
            assert cls.__module__.startswith(f"hwsim.families.{name}."), (name, cls)


@pytest.mark.parametrize("path", sorted(PKG.rglob("*.py")), ids=lambda p: str(p.relative_to(PKG)))
def test_no_long_files_or_functions(path):
    text = path.read_text()
    assert text.count("\n") <= MAX_FILE_LINES, f"{path}: {text.count(chr(10))} lines"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            n = node.end_lineno - node.lineno + 1
            assert n <= MAX_FUNCTION_LINES, f"{path}:{node.lineno} {node.name} has {n} lines"
