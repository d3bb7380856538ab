"""Execute notebooks through a real Jupyter kernel (nbclient + ipykernel) and store their outputs
in the .ipynb, so they read on GitHub with results, without Jupyter installed.

    python benchmarks/execute_notebooks.py                       # every notebooks/*.ipynb
    python benchmarks/execute_notebooks.py notebooks/formats_explorer.ipynb

`execute` is the one execution path: the test suite (tests/test_notebooks.py) runs each notebook
through it, with the notebook's checks appended as one more cell in the same kernel, and this
script runs the same function without the checks and writes the outputs back.

The kernel is ipykernel's "python3" spec, which jupyter_client launches with the interpreter
running this script (the project's venv); it starts in the notebook's folder, as Jupyter would,
with this checkout first on PYTHONPATH so that it imports this checkout's hwsim.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
KERNEL = "python3"
# ipykernel's inline backend turns every figure a cell leaves open into a PNG output
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


def kernel_env(root: Path = ROOT) -> dict[str, str]:
    """The kernel's environment: ours, with ``root`` first on PYTHONPATH and inline figures."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(root)] + [p for p in env.get("PYTHONPATH", "")
                                                       .split(os.pathsep) if p])
    env["MPLBACKEND"] = INLINE_BACKEND
    return env


def execute(path: Path, *, extra_source: str | None = None,
            timeout_s: int = 600) -> nbformat.NotebookNode:
    """Run every cell of ``path`` top to bottom in a fresh kernel and return the executed
    notebook (outputs, execution counts, the kernel's language_info). ``extra_source`` runs
    as one more cell in the same kernel after the last one (tests assert there what the
    notebook computed) and is not part of the returned notebook. A failing cell raises
    ``nbclient.exceptions.CellExecutionError`` with the cell's source and traceback."""
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    if extra_source is not None:
        nb.cells.append(nbformat.v4.new_code_cell(extra_source))
    # plain tracebacks: a failing cell's error reads without terminal colour codes in pytest
    client = NotebookClient(nb, kernel_name=KERNEL, timeout=timeout_s,
                            extra_arguments=["--InteractiveShell.colors=nocolor"],
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute(env=kernel_env(), cwd=str(path.parent))
    if extra_source is not None:
        nb.cells.pop()
    return nb


def store(path: Path) -> int:
    """Execute ``path`` and write it back with its outputs; returns the number of code cells."""
    nb = execute(path)
    _, nb = nbformat.validator.normalize(nb)  # adds cell ids older files lack
    nb = nbformat.from_dict(nb)
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return sum(c.cell_type == "code" for c in nb.cells)


def main() -> int:
    ap = argparse.ArgumentParser(description="execute notebooks in a Jupyter kernel and store "
                                             "their outputs")
    ap.add_argument("paths", nargs="*", type=Path)
    a = ap.parse_args()
    for p in a.paths or sorted(NOTEBOOKS.glob("*.ipynb")):
        print(f"{p.name}: {store(p)} code cells run in a kernel, outputs stored")
    return 0


if __name__ == "__main__":
    sys.exit(main())
