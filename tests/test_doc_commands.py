"""Every ``hwsim`` command shown in README.md and the documentation pages runs as written.

Commands come from fenced code blocks (``bash``/``sh``/``console`` or no language; ``text``
blocks are synopses such as ``hwsim eval WORKLOAD --arch ARCH [...]`` and are not run): each line
that starts with ``hwsim`` (or an ``&& hwsim ...`` segment of an install line), with backslash
continuations joined and ``#`` comments dropped; in README.md also inline code spans that are a
whole command (``hwsim`` and at least two words: the families table's "try" column). Pages are taken in order (README, then the
mkdocs nav); each page's commands run in order in a fresh copy of the working tree, from its
root, so a command may read what an earlier one on the same page wrote (``--export design.json``
then ``--arch design.json``) and nothing else. A command passes when it exits 0 and prints no
``hwsim: error`` (run in this process: the package is the working tree's, the data files the
copy's). Expensive ones (an exploration, the full registry) are marked slow.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```", re.S | re.M)
RUN_LANGS = {"", "bash", "sh", "shell", "console"}
# a command matching one of these runs in the slow suite: each takes more than a few seconds
# (an exploration: ~20 s; the plot of its study; the whole registry: ~13 s on 2 shared cores)
SLOW = (re.compile(r"^hwsim explore "), re.compile(r"^hwsim plot pareto "),
        re.compile(r"^hwsim validate$"))
IGNORE = shutil.ignore_patterns(".git", ".venv*", "__pycache__", "site", "*.db", ".pytest_cache")


def pages() -> list[Path]:
    """README.md, then the pages of the mkdocs nav in order."""
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]

    def walk(items):
        for it in items:
            v = next(iter(it.values())) if isinstance(it, dict) else it
            if isinstance(v, list):
                yield from walk(v)
            else:
                yield v
    return [ROOT / "README.md"] + [ROOT / "docs" / p for p in walk(nav)]


def commands(text: str) -> list[str]:
    """The ``hwsim`` command lines of a page's runnable fenced blocks, in order."""
    out = []
    for m in FENCE.finditer(text):
        if m.group(1) not in RUN_LANGS:
            continue
        for line in m.group(2).replace("\\\n", " ").splitlines():
            for seg in line.split("&&"):
                if seg.split()[:1] != ["hwsim"]:
                    continue
                words = shlex.split(seg, comments=True)
                if words and words[0] == "hwsim":
                    out.append(shlex.join(words))
    return out


def inline_commands(text: str) -> list[str]:
    """Whole ``hwsim`` commands in inline code spans outside fenced blocks (``hwsim list archs``;
    not a bare command name such as ``hwsim eval``)."""
    prose = FENCE.sub("", text)
    return [m.group(1) for m in re.finditer(r"`(hwsim [^`]+)`", prose)
            if len(m.group(1).split()) >= 3 and "..." not in m.group(1)]


def _cases():
    for page in pages():
        rel = page.relative_to(ROOT).as_posix()
        text = page.read_text()
        cmds = commands(text) + (inline_commands(text) if rel == "README.md" else [])
        for i, cmd in enumerate(cmds):
            marks = [pytest.mark.slow] if any(p.search(cmd) for p in SLOW) else []
            yield pytest.param(rel, i, cmd, id=f"{rel}:{i}", marks=marks)


CASES = list(_cases())


def test_extraction_finds_the_shown_commands():
    texts = {p.relative_to(ROOT).as_posix(): p.read_text() for p in pages()}
    readme = commands(texts["README.md"])
    assert readme[0].startswith("hwsim eval llama-2-7b --arch h100-sxm")  # the install line
    assert "hwsim validate" in readme
    assert "hwsim eval llama-2-7b --arch lut-tc" in inline_commands(texts["README.md"])
    assert not any("WORKLOAD" in c or "[" in c for _, _, c in (p.values for p in CASES))
    assert len(CASES) >= 40
    # a synopsis block is not run, a bash block is
    assert commands("```text\nhwsim eval X [--a]\n```\n```bash\nhwsim list archs  # c\n```") \
        == ["hwsim list archs"]


@pytest.fixture(scope="module")
def workdirs(tmp_path_factory):
    """One fresh copy of the working tree per page, made on first use."""
    made: dict[str, Path] = {}

    def get(page: str) -> Path:
        if page not in made:
            d = tmp_path_factory.mktemp(page.replace("/", "_").replace(".", "_")) / "hwsim"
            shutil.copytree(ROOT, d, ignore=IGNORE)
            made[page] = d
        return made[page]
    return get


def _run(cmd: str, cwd: Path, monkeypatch, capsys) -> tuple[int, str]:
    """``hwsim ...`` in this process (the import is what a subprocess per command would pay
    for), from ``cwd``: (exit code, stderr)."""
    from hwsim.cli import main
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    try:
        rc = main(shlex.split(cmd)[1:])
    except SystemExit as e:  # argparse: a bad option exits 2
        rc = e.code if isinstance(e.code, int) else 1
    return rc or 0, capsys.readouterr().err


@pytest.mark.parametrize("page,index,cmd", CASES)
def test_shown_command_runs(page, index, cmd, workdirs, monkeypatch, capsys):
    rc, err = _run(cmd, workdirs(page), monkeypatch, capsys)
    assert rc == 0 and "hwsim: error" not in err, f"{page}: `{cmd}` exited {rc}:\n{err[-3000:]}"


def _sweep_command() -> str:
    """The command the serving sweep table says produced it (a generated block)."""
    text = (ROOT / "docs" / "serving.md").read_text()
    block = text.split("<!-- begin:serving-sweep -->", 1)[1].split("<!-- end:serving-sweep -->")[0]
    return re.search(r"`(hwsim serve [^`]+)`", block).group(1)


def test_serving_sweep_table_is_reproduced_by_its_command(tmp_path, monkeypatch, capsys):
    """The serving sweep table's command writes exactly the committed sweep.csv (all columns but
    the machine-dependent wall time)."""
    import csv
    cmd = _sweep_command()
    assert "--seed" in cmd and "..." not in cmd
    rc, err = _run(cmd, tmp_path, monkeypatch, capsys)
    assert rc == 0, err[-2000:]
    out = re.search(r"--csv (\S+)", cmd).group(1)
    got = list(csv.DictReader(open(tmp_path / out)))
    want = list(csv.DictReader(open(ROOT / "experiments/results/serving/sweep.csv")))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        for k, v in w.items():
            same = g[k] == v if k in ("model", "system") else \
                float(g[k]) == pytest.approx(float(v), rel=1e-9)
            assert same, (k, g[k], v)
