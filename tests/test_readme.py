"""README and documentation numbers are generated (benchmarks/readme.py): stale blocks and
hand-typed measured figures in the prose of README.md and of every page with generated blocks
(benchmarks/readme.py FILES) fail here."""

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("readme_blocks", ROOT / "benchmarks" / "readme.py")
readme = importlib.util.module_from_spec(spec)
spec.loader.exec_module(readme)
TEXT = (ROOT / "README.md").read_text()
TEXTS = {p.relative_to(ROOT).as_posix(): p.read_text() for p in readme.FILES}
NAMES = [(f, m.group(2)) for f, text in TEXTS.items() for m in readme.BLOCK.finditer(text)]


def test_readme_has_generated_blocks():
    assert {("README.md", "validation-summary"), ("docs/validation.md", "validation-table"),
            ("docs/families/gpu.md", "gpu-heldout")} <= set(NAMES)
    assert {n for _, n in NAMES} <= set(readme.BLOCKS), "a block has no generator"


@pytest.mark.parametrize("file,name", NAMES)
def test_readme_block_is_current(file, name):
    _, changed = readme.render(TEXTS[file], {name})
    assert not changed, f"{file} block {name!r} is stale: run python benchmarks/readme.py {name}"


# a percentage, a speed-up, a time or a rate typed into prose is a claim without a script
MEASURED = re.compile(r"\d+(?:\.\d+)?(?:%|×(?!\d)|\s?ms\b|\s?µs\b|\s?tokens/s|/min\b|\s?designs/min)")
ALLOWED = ("1.5–2.8×",  # van Baalen et al.'s published range, quoted as the reference
           "≤ 10%", "≤ 20%", "≤ 15%", "tolerance 10%")  # targets, not results


def test_readme_is_an_entry_point():
    """Reference material lives in docs/; the README keeps at most the validation summary."""
    assert TEXT.count("\n") <= 400
    assert [n for f, n in NAMES if f == "README.md"] == ["validation-summary"]


@pytest.mark.parametrize("file", sorted(TEXTS))
def test_no_hand_typed_results_in_prose(file):
    prose = readme.BLOCK.sub("", TEXTS[file])
    prose = re.sub(r"```.*?```", "", prose, flags=re.S)
    hits = []
    for line in prose.splitlines():
        for a in ALLOWED:
            line = line.replace(a, "")
        hits += [f"{m.group(0)!r} in: {line.strip()[:100]}" for m in MEASURED.finditer(line)]
    assert not hits, (f"numbers in {file} prose must come from a generated block:\n"
                      + "\n".join(hits))
