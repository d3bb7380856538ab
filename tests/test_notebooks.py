"""Every notebook's code cells run top to bottom without error (no Jupyter needed)."""

import json
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, capsys):
    nb = json.loads(path.read_text())
    ns: dict = {"__name__": "__notebook__"}
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), f"{path.name}[cell {i}]", "exec"), ns)
    assert "rep" in ns or len(ns) > 1
