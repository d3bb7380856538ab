"""Run notebooks top to bottom and store their outputs (printed text, the value of a cell's last
expression, and every matplotlib figure the cell leaves open, as PNG) in the .ipynb, so they read
on GitHub with results, without Jupyter installed. Cells run in one namespace, in order, as a
kernel would; a failing cell stops the run with the cell's number.

    python benchmarks/execute_notebooks.py                       # every notebooks/*.ipynb
    python benchmarks/execute_notebooks.py notebooks/formats_explorer.ipynb

The test suite (tests/test_notebooks.py) executes the same cells and checks what they computed;
this script only refreshes the stored outputs.
"""

from __future__ import annotations

import argparse
import ast
import base64
import contextlib
import io
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _run_cell(src: str, ns: dict, name: str):
    """Execute ``src``; return (stdout text, repr of the last expression or None)."""
    tree = ast.parse(src, name, "exec")
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(tree, name, "exec"), ns)
        value = eval(compile(last, name, "eval"), ns) if last is not None else None
    return buf.getvalue(), value


def _png(fig) -> str:
    b = io.BytesIO()
    fig.savefig(b, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(b.getvalue()).decode()


def execute(path: Path) -> int:
    """Run every code cell of ``path`` and write the outputs back; returns the cell count."""
    nb = json.loads(path.read_text())
    ns: dict = {"__name__": "__notebook__"}
    n = 0
    plt.close("all")
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        n += 1
        src = "".join(cell["source"])
        try:
            text, value = _run_cell(src, ns, f"{path.name}[cell {i}]")
        except Exception as e:
            raise SystemExit(f"{path.name}: cell {i} failed: {type(e).__name__}: {e}") from e
        outs = []
        if text:
            outs.append({"output_type": "stream", "name": "stdout",
                         "text": text.splitlines(keepends=True)})
        from matplotlib.figure import Figure
        if value is not None and not isinstance(value, Figure):
            outs.append({"output_type": "execute_result", "execution_count": n, "metadata": {},
                         "data": {"text/plain": repr(value).splitlines(keepends=True)}})
        for num in plt.get_fignums():
            fig = plt.figure(num)
            outs.append({"output_type": "display_data", "metadata": {},
                         "data": {"image/png": _png(fig), "text/plain": [repr(fig)]}})
        plt.close("all")
        cell["outputs"] = outs
        cell["execution_count"] = n
    nb.setdefault("metadata", {}).setdefault("language_info", {"name": "python"})
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return n


def main() -> int:
    ap = argparse.ArgumentParser(description="execute notebooks and store their outputs")
    ap.add_argument("paths", nargs="*", type=Path)
    a = ap.parse_args()
    paths = a.paths or sorted((ROOT / "notebooks").glob("*.ipynb"))
    for p in paths:
        print(f"{p.name}: {execute(p)} code cells run, outputs stored")
    return 0


if __name__ == "__main__":
    sys.exit(main())
