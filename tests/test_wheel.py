"""The installed package carries its own data: a wheel built from this checkout and installed
outside it registers the same checks, finds every preset, and runs a validation group that reads
packaged measurements, exactly as the checkout does."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PROBE = r"""
import json, sys, hwsim
from hwsim import validate
from hwsim.experiments import list_experiments
checks = validate.checks()
res = validate.run("mac_array") + validate.run("gpu-decode")
print(json.dumps({
    "file": hwsim.__file__,
    "checks": sorted(f"{c.family}:{c.id}:{c.kind}" for c in checks),
    "archs": len(hwsim.list_archs()), "workloads": len(hwsim.list_workloads()),
    "experiments": len(list_experiments()),
    "values": {f"{r.check.family}:{r.check.id}": r.value for r in res},
}))
"""


def _probe(env: dict, cwd: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=cwd,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_installed_wheel_validates_like_the_checkout(tmp_path):
    dist = tmp_path / "dist"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                            str(dist), str(ROOT)], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-3000:]
    wheel = next(dist.glob("hwsim-*.whl"))
    site = tmp_path / "site"
    inst = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q",
                           "--target", str(site), str(wheel)], capture_output=True, text=True,
                          timeout=600)
    assert inst.returncode == 0, inst.stderr[-3000:]
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    installed = _probe({**os.environ, "PYTHONPATH": str(site)}, outside)
    assert installed["file"].startswith(str(site))
    checkout = _probe({**os.environ, "PYTHONPATH": str(ROOT)}, outside)
    assert checkout["file"].startswith(str(ROOT))
    for key in ("checks", "archs", "workloads", "experiments", "values"):
        assert installed[key] == checkout[key], key
    assert installed["values"], "no check value computed"
