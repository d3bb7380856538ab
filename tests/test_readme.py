"""README numbers are generated (benchmarks/readme.py): stale blocks and hand-typed measured
figures in the prose fail here."""

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("readme_blocks", ROOT / "benchmarks" / "readme.py")
readme = importlib.util.module_from_spec(spec)
spec.loader.exec_module(readme)
TEXT = (ROOT / "README.md").read_text()
TEXTS = {p.name: p.read_text() for p in readme.FILES}
NAMES = [(f, m.group(2)) for f, text in TEXTS.items() for m in readme.BLOCK.finditer(text)]


def test_readme_has_generated_blocks():
    assert {("README.md", "validation-summary"), ("validation.md", "validation-table"),
            ("README.md", "gpu-heldout")} <= set(NAMES)
    assert {n for _, n in NAMES} <= set(readme.BLOCKS), "a block has no generator"


@pytest.mark.parametrize("file,name", NAMES)
def test_readme_block_is_current(file, name):
    _, changed = readme.render(TEXTS[file], {name})
    assert not changed, f"{file} block {name!r} is stale: run python benchmarks/readme.py {name}"


# a percentage, a speed-up, a time or a rate typed into prose is a claim without a script
MEASURED = re.compile(r"\d+(?:\.\d+)?(?:%|×(?!\d)|\s?ms\b|\s?µs\b|\s?tokens/s|/min\b|\s?designs/min)")
ALLOWED = ("1.5–2.8×",  # van Baalen et al.'s published range, quoted as the reference
           "≤ 10%", "≤ 20%", "≤ 15%", "tolerance 10%")  # targets, not results


def test_no_hand_typed_results_in_prose():
    prose = readme.BLOCK.sub("", TEXT)
    prose = re.sub(r"```.*?```", "", prose, flags=re.S)
    hits = []
    for line in prose.splitlines():
        for a in ALLOWED:
            line = line.replace(a, "")
        hits += [f"{m.group(0)!r} in: {line.strip()[:100]}" for m in MEASURED.finditer(line)]
    assert not hits, "numbers in README prose must come from a generated block:\n" + "\n".join(hits)
