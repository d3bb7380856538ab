"""mkdocs hooks (mkdocs.yml ``hooks``):

* ``docs/cli.md``'s ``<!-- cli-reference -->`` marker becomes the ``--help`` of every ``hwsim``
  command and sub-command, rendered from the argparse parser (``hwsim.cli._parser``), so the CLI
  reference cannot drift from the code.
* Repository files that pages link outside ``docs/`` (result plots and CSVs under
  ``experiments/results/``) are published with the site under ``_repo/`` and the links rewritten
  to them, so ``mkdocs build --strict`` checks they exist.
"""

from __future__ import annotations

import argparse
import os
import posixpath
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
MARKER = "<!-- cli-reference -->"
LINK = re.compile(r"(\]\()([^)\s#]+)((?:#[^)]*)?\))")
PUBLISHED = "_repo"


def _subcommands(p: argparse.ArgumentParser):
    for a in p._actions:  # argparse keeps sub-parsers only on this private action
        if isinstance(a, argparse._SubParsersAction):
            yield from a.choices.items()


def _walk(p: argparse.ArgumentParser, prefix: str):
    yield prefix, p
    for name, sub in _subcommands(p):
        yield from _walk(sub, f"{prefix} {name}")


def cli_reference() -> str:
    """Markdown: one section per command with its ``--help`` text."""
    os.environ["COLUMNS"] = "100"  # argparse wraps help at $COLUMNS: the same page everywhere
    from hwsim.cli import _parser
    out = []
    for cmd, p in _walk(_parser(), "hwsim"):
        p.prog = cmd
        level = "##" if cmd.count(" ") <= 1 else "###"
        out += [f"{level} `{cmd}`", "", "```text", p.format_help().rstrip(), "```", ""]
    return "\n".join(out)


def _outside_links(path: Path, text: str):
    """(link, repository file) for relative links that leave docs/ and name an existing file."""
    for m in LINK.finditer(text):
        target = m.group(2)
        if "://" in target or target.startswith(("/", "mailto:")):
            continue
        f = (path.parent / target).resolve()
        if f.is_file() and DOCS not in f.parents and ROOT in f.parents:
            yield target, f


def on_files(files, config):
    from mkdocs.structure.files import File
    seen = set()
    for md in DOCS.rglob("*.md"):
        for _, f in _outside_links(md, md.read_text()):
            rel = f.relative_to(ROOT).as_posix()
            if rel not in seen:
                seen.add(rel)
                files.append(File.generated(config, f"{PUBLISHED}/{rel}", abs_src_path=str(f)))
    return files


def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri == "cli.md":
        markdown = markdown.replace(MARKER, cli_reference())
    src = DOCS / page.file.src_uri
    here = posixpath.dirname(page.file.src_uri)
    for target, f in set(_outside_links(src, markdown)):
        new = posixpath.relpath(f"{PUBLISHED}/{f.relative_to(ROOT).as_posix()}", here or ".")
        markdown = markdown.replace(f"]({target}", f"]({new}")
    return markdown
