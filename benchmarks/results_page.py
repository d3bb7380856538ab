"""docs/results.md is generated: the validation registry (hwsim.validate) summarized per family with
its model-vs-reference plot, the known misses with their reasons, every experiment's committed
results (experiments/results/<name>/: its plots, CSVs and, where the experiment has one, a summary
table read from its CSV), and a gallery of hwsim.plot figures. Nothing on the page is typed by
hand.

    python benchmarks/results_page.py            # rewrite docs/results.md and docs/img/*.png
    python benchmarks/results_page.py --check    # exit 1 if docs/results.md is stale

``tests/test_results_page.py`` fails when the page is stale (its Markdown, not the PNG bytes,
which differ between matplotlib versions) or links an image that does not exist.
"""

from __future__ import annotations

import argparse
import ast
import csv
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "results.md"
IMG = ROOT / "docs" / "img"
RESULTS = ROOT / "experiments" / "results"


def _csv(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _rel(p: Path) -> str:
    """A link from docs/results.md to ``p``."""
    return Path("..", p.relative_to(ROOT)).as_posix() if not p.is_relative_to(PAGE.parent) \
        else p.relative_to(PAGE.parent).as_posix()


# ------------------------------------------------------------------ validation

def validation_section(results, images: dict[str, Path]) -> list[str]:
    from hwsim import validate
    fams = list(dict.fromkeys(r.check.family for r in results))
    out = ["## Validation registry", "",
           "Every check compares a hwsim value with a published or measured one "
           "(`hwsim validate`). *Validation* checks use data no parameter was fitted to; "
           "*consistency* checks (a preset or rule against its own sources) are counted apart "
           "and never in an error figure.", "",
           "| family | validation checks | within tolerance | known misses | failed | "
           "worst \\|error\\| (relative checks) | consistency checks | plot |",
           "|---|---|---|---|---|---|---|---|"]
    for fam in fams:
        rs = [r for r in results if r.check.family == fam]
        s = validate.summary(rs)
        worst = (f"{_pct(s['worst_rel_error'])} (`{s['worst_id'].split(':', 1)[1]}`)"
                 if s["worst_rel_error"] is not None else "—")
        plot = f"[plot]({_rel(images[fam])})" if fam in images else "—"
        out.append(f"| {fam} | {s['validation']} | {s['passed']} | {s['known_misses']} | "
                   f"{s['failed']} | {worst} | {s['consistency']} | {plot} |")
    s = validate.summary(results)
    out.append(f"| **all** | **{s['validation']}** | **{s['passed']}** | **{s['known_misses']}**"
               f" | **{s['failed']}** | {_pct(s['worst_rel_error'])} (`{s['worst_id']}`) | "
               f"{s['consistency']} | |")
    out += ["", "### Known misses", "",
            "Checks a model does not meet today, grouped by the reason the registry states "
            "(validation checks only).", ""]
    for fam in fams:
        miss = [r for r in results if r.check.family == fam and r.check.kind == "validation"
                and not r.passed and r.check.known_miss]
        if not miss:
            continue
        out.append(f"**{fam}** ({len(miss)})")
        out.append("")
        for reason, n in Counter(r.check.known_miss for r in miss).most_common():
            ids = [r.check.id for r in miss if r.check.known_miss == reason]
            shown = ", ".join(f"`{i}`" for i in ids[:4]) + (f" and {len(ids) - 4} more"
                                                            if len(ids) > 4 else "")
            out.append(f"- {n} × {reason.rstrip('.')} — {shown}")
        out.append("")
    imgs = [f"![{fam}]({_rel(p)})" for fam, p in images.items()]
    if imgs:
        out += ["### hwsim against the references, per family", "",
                "Left: hwsim's value against the reference (log-log) with the tolerance band; "
                "hollow markers miss. Right: signed relative error of each check.", ""]
        out += [x + "\n" for x in imgs]
    return out


# ------------------------------------------------------------------ experiments

def _doc_first_line(script: Path) -> str:
    try:
        doc = ast.get_docstring(ast.parse(script.read_text())) or ""
    except (OSError, SyntaxError):
        return ""
    para = doc.split("\n\n")[0]
    return " ".join(para.split())


def _gpu_decode(d: Path) -> list[str]:
    rows = _csv(d / "summary.csv")
    names = {"model_eager": "hwsim, eager kernels (like-for-like)",
             "model_fused": "hwsim, fused kernels", "roofline": "datasheet roofline"}
    out = ["| arch | model | configurations | MAPE tokens/s | worst \\|error\\| |",
           "|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['arch']} | {names.get(r['model'], r['model'])} | {r['n']} | "
                   f"{_pct(float(r['mape']))} | {_pct(float(r['max_abs_error']))} |")
    return out


def _format_study(d: Path) -> list[str]:
    rows = _csv(d / "formats.csv")
    fmts = list(dict.fromkeys(r["weights"] for r in rows))
    archs = list(dict.fromkeys(r["arch"] for r in rows))
    by = {(r["arch"], r["weights"]): r for r in rows}
    out = ["Decode tokens/s (— : the model refuses the pair; the reason is in formats.csv).", "",
           "| arch (family) | " + " | ".join(fmts) + " |", "|---|" + "---|" * len(fmts)]
    for a in archs:
        cells = [f"{float(by[a, f]['tokens_per_s']):.3g}" if by[a, f]["tokens_per_s"] else "—"
                 for f in fmts]
        out.append(f"| {a} ({by[a, fmts[0]]['family']}) | " + " | ".join(cells) + " |")
    ran = sum(1 for r in rows if r["tokens_per_s"])
    out += ["", f"{ran} of {len(rows)} (arch, format) pairs run."]
    return out


def _lut_vs_mac(d: Path) -> list[str]:
    rows = [r for r in _csv(d / "lut_vs_mac.csv") if r["tops"]]
    out = ["| design | activations | weights | TOPS | TOPS/mm² (no SRAM) | pJ/op |",
           "|---|---|---|---|---|---|"]
    for r in rows:
        if r["weights"] in ("int2", "int4", "int8"):
            out.append(f"| {r['design']} | {r['activations']} | {r['weights']} | "
                       f"{float(r['tops']):.3g} | {float(r['tops_per_mm2']):.3g} | "
                       f"{float(r['pj_per_op']):.3g} |")
    return out


SUMMARIES = {"gpu_decode_vs_measured": _gpu_decode, "format_study": _format_study,
             "lut_vs_mac": _lut_vs_mac}


def experiments_section() -> list[str]:
    out = ["## Experiments", "",
           "One script per study under `experiments/`; each writes CSV and PNG under "
           "`experiments/results/<name>/` (committed). Rerun one with "
           "`python experiments/<name>.py`.", ""]
    for d in sorted(p for p in RESULTS.iterdir() if p.is_dir()):
        script = ROOT / "experiments" / f"{d.name}.py"
        out.append(f"### {d.name}")
        out.append("")
        if script.exists():
            out += [_doc_first_line(script), "",
                    f"Script: [`experiments/{d.name}.py`]({_rel(script)})."]
        else:
            out.append("(no script of this name in experiments/)")
        csvs = sorted(d.glob("*.csv"))
        if csvs:
            out.append("Data: " + ", ".join(f"[`{c.name}`]({_rel(c)})" for c in csvs) + ".")
        out.append("")
        if d.name in SUMMARIES:
            out += SUMMARIES[d.name](d) + [""]
        out += [f"![{d.name}: {p.stem}]({_rel(p)})\n" for p in sorted(d.glob("*.png"))]
    return out


# ------------------------------------------------------------------ gallery

def gallery(write: bool) -> tuple[list[str], list[Path]]:
    """hwsim.plot figures of reference configurations (written to docs/img when ``write``)."""
    items = [("roofline_h100_decode.png", "roofline: llama-2-7b decode (batch 1, fp16) on "
              "h100-sxm, each op on its datapath's roof",
              "hwsim plot roofline llama-2-7b --arch h100-sxm --phase decode"),
             ("breakdown_lut_mac_energy.png", "energy per layer group by component: llama-2-7b "
              "decode, int4 weights, on lut-tc and mac-tc",
              "hwsim plot breakdown llama-2-7b --arch lut-tc --arch mac-tc --weights int4 "
              "--metric energy_j --by component"),
             ("area_lut_mac.png", "area by component", "hwsim plot area --arch lut-tc --arch "
              "mac-tc --arch mac-tc-int8 --arch bitmod"),
             ("formats.png", "quantization error vs storage bits",
              "hwsim plot formats int4 int4_g128 mxfp4 nvfp4 fp4_e2m1 fp8_e4m3 int8 ternary "
              "q4_0")]
    paths = [IMG / name for name, _, _ in items]
    if write:
        from hwsim.cli import main as cli
        for (name, _, cmd), p in zip(items, paths):
            if cli(cmd.split()[1:] + ["--out", str(p)]) != 0:
                raise SystemExit(f"failed: {cmd}")
    out = ["## Gallery", "", "Made by `hwsim plot` (`hwsim.plot` in Python); the command is "
           "under each.", ""]
    for (name, title, cmd), p in zip(items, paths):
        out += [f"**{title}**", "", f"![{title}]({_rel(p)})", "", f"`{cmd} --out {name}`", ""]
    return out, paths


# ------------------------------------------------------------------ page

def render(write_images: bool = False) -> tuple[str, list[Path]]:
    """The page's Markdown and the images it links (written when ``write_images``)."""
    from hwsim import validate
    results = validate.run()
    fams = list(dict.fromkeys(r.check.family for r in results))
    images = {}
    for fam in fams:
        rs = [r for r in results if r.check.family == fam]
        if any(r.check.kind == "validation" and r.check.mode == "rel" and r.check.reference > 0
               and r.value > 0 for r in rs):
            images[fam] = IMG / f"validation_{fam}.png"
            if write_images:
                from hwsim.plot import save, validation
                save(validation(fam, results=rs), images[fam])
    gal, gal_paths = gallery(write_images)
    lines = ["# hwsim results", "",
             "<!-- generated by benchmarks/results_page.py from the validation registry and "
             "experiments/results/; do not edit by hand -->", "",
             "Contents: [validation registry](#validation-registry) · "
             "[experiments](#experiments) · [gallery](#gallery)", ""]
    lines += validation_section(results, images) + [""]
    lines += experiments_section() + [""]
    lines += gal
    return "\n".join(lines).rstrip("\n") + "\n", list(images.values()) + gal_paths


def main() -> int:
    ap = argparse.ArgumentParser(description="generate docs/results.md")
    ap.add_argument("--check", action="store_true", help="exit 1 if docs/results.md is stale")
    a = ap.parse_args()
    text, images = render(write_images=not a.check)
    if a.check:
        missing = [p for p in images if not p.exists()]
        stale = not PAGE.exists() or PAGE.read_text() != text
        if stale or missing:
            print("docs/results.md is stale" if stale else "",
                  *(f"missing image {p}" for p in missing), sep="\n")
            return 1
        return 0
    PAGE.parent.mkdir(parents=True, exist_ok=True)
    PAGE.write_text(text)
    print(f"wrote {PAGE} and {len(images)} images")
    return 0


if __name__ == "__main__":
    sys.exit(main())
