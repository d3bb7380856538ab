import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from hwsim.errors import ConfigError  # noqa: E402
from hwsim.workload import load_workload  # noqa: E402


def _model(path):
    """conv 3->8 (3x3, pad 1) -> relu -> flatten -> Gemm(2048->10, transB) -> MatMul(10x4)."""
    w = numpy_helper.from_array(np.zeros((8, 3, 3, 3), np.float32), "w")
    fcw = numpy_helper.from_array(np.zeros((10, 8 * 16 * 16), np.float32), "fcw")
    fcb = numpy_helper.from_array(np.zeros((10,), np.float32), "fcb")
    mw = numpy_helper.from_array(np.zeros((10, 4), np.float32), "mw")
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"], name="relu"),
             helper.make_node("Flatten", ["r"], ["f"], name="flat"),
             helper.make_node("Gemm", ["f", "fcw", "fcb"], ["g"], name="fc", transB=1),
             helper.make_node("MatMul", ["g", "mw"], ["y"], name="mm")]
    graph = helper.make_graph(nodes, "tiny",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 16, 16])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])],
                              [w, fcw, fcb, mw])
    onnx.save(helper.make_model(graph), str(path))


def test_onnx_import_counts(tmp_path):
    p = tmp_path / "tiny.onnx"
    _model(p)
    wl = load_workload(p, weights="int8", activations="int8")
    by = {op.name: op for op in wl.ops}
    assert by["conv"].macs == 2 * 8 * 16 * 16 * 3 * 9
    assert (by["fc"].M, by["fc"].N, by["fc"].K, by["fc"].bias) == (2, 10, 2048, True)
    assert (by["mm"].M, by["mm"].N, by["mm"].K) == (2, 4, 10)
    assert by["relu"].type == "Elementwise"
    assert wl.num_params == 8 * 27 + 10 * 2048 + 10 + 40
    assert by["fc"].weights == "int8"
    assert list(wl.graph.predecessors("fc")) == ["relu"]  # Flatten is a view: no op


def test_onnx_garbage_file(tmp_path):
    p = tmp_path / "bad.onnx"
    p.write_bytes(b"not a model")
    with pytest.raises(ConfigError, match="bad.onnx"):
        load_workload(p)
