"""The CLI on imported inputs: --dim for ONNX, a GGUF file with its notes, --export."""

import importlib.util
import json
from pathlib import Path

import pytest

from hwsim.cli import main

onnx = pytest.importorskip("onnx")


def _sibling(name):
    """A sibling test module's fixture builders (tests run with --import-mode=importlib)."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_cli_onnx_dims_gguf_notes_and_export(tmp_path, capsys):
    gg, ox = _sibling("test_gguf_import"), _sibling("test_onnx_import")
    META, _tensors, _mlp = gg.META, gg._tensors, ox._mlp

    from hwsim.importers.gguf import write_gguf
    p = _mlp(tmp_path / "mlp.onnx")
    assert main(["eval", str(p), "--arch", "h100-sxm", "--dim", "batch=2", "--dim",
                 "seq=8"]) == 0
    assert main(["eval", str(p), "--arch", "h100-sxm", "--dim", "batch=2"]) == 2
    assert "unbound symbolic input dimension(s) seq" in capsys.readouterr().err
    g = write_gguf(tmp_path / "t.gguf", META, _tensors())
    out = tmp_path / "design.json"
    assert main(["eval", str(g), "--arch", "rpi5", "--context", "32", "--export",
                 str(out)]) == 0
    err = capsys.readouterr().err
    assert "note: layers.0.attn.qkv: attn_q=q4_k" in err
    saved = json.loads(out.read_text())
    assert saved["family"] == "cpu" and saved["evaluation"]["totals"]["latency_s"] > 0
    assert main(["eval", str(g), "--arch", str(out), "--context", "32"]) == 0
