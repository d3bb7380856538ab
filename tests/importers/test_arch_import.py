"""ZigZag and Timeloop v0.4 architecture YAML -> mac_array designs. Fixtures are written by the
tests: the numbers of ZigZag's bundled tpu_like.yaml (zigzag-dse, inputs/hardware/tpu_like.yaml)
and of the Timeloop exercises' simple_weight_stationary/arch.yaml."""

from pathlib import Path

import pytest
import yaml

import hwsim
from hwsim._paths import read_yaml
from hwsim.errors import ConfigError, UnsupportedError
from hwsim.importers.zigzag import zigzag_spec
from hwsim.workload.ops import Gemm

ROOT = Path(__file__).resolve().parents[2]


def _port(name, typ, bw_min, bw_max, alloc):
    return {"name": name, "type": typ, "bandwidth_min": bw_min, "bandwidth_max": bw_max,
            "allocation": alloc}


TPU_LIKE = {
    "name": "tpu_like",
    "memories": {
        "rf_128B": {"size": 1024, "r_cost": 0.095, "w_cost": 0.095, "area": 0, "latency": 1,
                    "operands": ["I2"], "served_dimensions": [],
                    "ports": [_port("r_port_1", "read", 8, 8, ["I2, tl"]),
                              _port("w_port_1", "write", 8, 8, ["I2, fh"])]},
        "rf_2B": {"size": 16, "r_cost": 0.021, "w_cost": 0.021, "area": 0, "latency": 1,
                  "operands": ["O"], "served_dimensions": [],
                  "ports": [_port("r_port_1", "read", 16, 16, ["O, tl"]),
                            _port("w_port_1", "write", 16, 16, ["O, fh"])]},
        "sram_2MB": {"size": 16777216, "r_cost": 416.16, "w_cost": 378.4, "area": 0,
                     "latency": 1, "operands": ["I1", "O"], "served_dimensions": ["D1", "D2"],
                     "ports": [_port("r_port_1", "read", 64, 2048, ["I1, tl", "O, tl"]),
                               _port("w_port_1", "write", 64, 2048, ["I1, fh", "O, fh"])]},
        "dram": {"size": 10000000000, "r_cost": 700, "w_cost": 750, "area": 0, "latency": 1,
                 "operands": ["I1", "I2", "O"], "served_dimensions": ["D1", "D2"],
                 "ports": [_port("rw_port_1", "read_write", 64, 64,
                                 ["I1, fh", "I1, tl", "I2, fh", "I2, tl", "O, fh", "O, tl"])]}},
    "operational_array": {"unit_energy": 0.04, "unit_area": 1, "dimensions": ["D1", "D2"],
                          "sizes": [32, 32]},
}


def _write(tmp_path, data, name="hw.yaml"):
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


def test_zigzag_tpu_like_matches_the_hand_written_mirror(tmp_path):
    """Consistency check: the importer derives the structure the benchmark's mirror YAML was
    written by hand to have (hwsim/families/mac_array/data/tpu_like_hwsim.yaml)."""
    spec = zigzag_spec(_write(tmp_path, TPU_LIKE))
    mirror = read_yaml(ROOT / "hwsim/families/mac_array/data/tpu_like_hwsim.yaml")["params"]
    for k in ("rows", "cols", "dataflow", "input_buffer_bytes", "weight_buffer_bytes",
              "output_buffer_bytes", "mem_bandwidth_Bps", "clock_hz", "activation_format",
              "weight_format", "technology", "dram_kind"):
        assert spec["params"][k] == mirror[k], k
    e = spec["energies_pj"]
    assert e["mac_pj"] == 0.04 and e["sram_2MB_read_pj_per_bit"] == pytest.approx(416.16 / 64)
    assert "not used by mac_array" in spec["description"]


def test_zigzag_load_arch_and_cost(tmp_path):
    p = _write(tmp_path, TPU_LIKE)
    hw = hwsim.load_arch(p, clock_hz=2e9)
    assert hw.family == "mac_array" and hw.params.rows == 32 and hw.params.clock_hz == 2e9
    assert hw.params.mem_bandwidth_Bps == 64 * 2e9 / 8
    c = hw.cost(Gemm(M=512, N=512, K=512, weights="int8", activations="int8"))
    assert c.latency_s > 0 and c.energy_j > 0


def test_zigzag_errors(tmp_path):
    bad = dict(TPU_LIKE, cores=2)
    with pytest.raises(ConfigError, match="unknown ZigZag field.*cores"):
        hwsim.load_arch(_write(tmp_path, bad))
    three = {**TPU_LIKE, "operational_array": {**TPU_LIKE["operational_array"],
                                               "dimensions": ["D1", "D2", "D3"],
                                               "sizes": [4, 4, 4]}}
    with pytest.raises(UnsupportedError, match="one or two array dimensions"):
        hwsim.load_arch(_write(tmp_path, three))
    imc = {**TPU_LIKE, "operational_array": {**TPU_LIKE["operational_array"], "is_imc": True}}
    with pytest.raises(UnsupportedError, match="is_imc"):
        hwsim.load_arch(_write(tmp_path, imc))
    # no per-MAC memory and no dataflows: the dataflow must be given
    mems = {k: v for k, v in TPU_LIKE["memories"].items() if not k.startswith("rf")}
    mems["sram_2MB"] = {**mems["sram_2MB"], "operands": ["I1", "I2", "O"]}
    flat = {**TPU_LIKE, "memories": mems}
    with pytest.raises(ConfigError, match="cannot tell the dataflow"):
        hwsim.load_arch(_write(tmp_path, flat))
    hw = hwsim.load_arch(_write(tmp_path, flat), dataflow="output_stationary")
    assert hw.params.dataflow == "output_stationary"
    given = {**flat, "dataflows": {"D1": ["K, 32"], "D2": ["OX, 32"]}}
    assert hwsim.load_arch(_write(tmp_path, given)).params.dataflow == "output_stationary"


TIMELOOP_WS = """\
architecture:
  version: 0.4
  nodes:
  - !Container
    name: system
  - !Component
    name: DRAM
    class: DRAM
    attributes: {type: "LPDDR4", width: 64, datawidth: 16}
  - !Container
    name: simple_ws
    attributes: {technology: "45nm"}
  - !Component
    name: shared_glb
    class: smartbuffer_SRAM
    attributes: {depth: 16384, width: 64, n_banks: 32, datawidth: 16, read_bandwidth: 16,
                 write_bandwidth: 16}
  - !Container
    name: PE
    spatial: {meshX: 16, meshY: 16}
  - !Component
    name: pe_spad
    class: smartbuffer_SRAM
    attributes: {depth: 192, width: 16, datawidth: 16}
    constraints:
      dataspace: {bypass: [Inputs, Outputs], keep: [Weights]}
  - !Parallel
    nodes:
    - !Component
      name: weight_reg
      class: storage
      subclass: aladdin_register
      attributes: {depth: 1, width: 16, datawidth: 16}
      constraints: {dataspace: {keep: [Weights]}}
    - !Component
      name: input_activation_reg
      class: storage
      subclass: aladdin_register
      attributes: {depth: 1, width: 16, datawidth: 16}
      constraints: {dataspace: {keep: [Inputs]}}
    - !Component
      name: output_activation_reg
      class: storage
      subclass: aladdin_register
      attributes: {depth: 1, width: 16, datawidth: 16}
      constraints: {dataspace: {keep: [Outputs]}}
  - !Component
    name: mac
    class: intmac
    attributes: {multiplier_width: 8, adder_width: 16}
"""


def test_timeloop_simple_weight_stationary(tmp_path):
    p = tmp_path / "arch.yaml"
    p.write_text(TIMELOOP_WS)
    hw = hwsim.load_arch(p)
    q = hw.params
    assert (q.rows, q.cols, q.dataflow, q.technology) == (16, 16, "weight_stationary", "45nm")
    assert q.weight_buffer_bytes == 192 * 16 * 256 // 8  # pe_spad in each of 256 PEs
    assert q.input_buffer_bytes == q.output_buffer_bytes == 16384 * 64 // 8 // 3  # shared glb
    assert (q.activation_format, q.weight_format) == ("int8", "int8")
    assert q.mem_bandwidth_Bps == 64 * 1e9 / 8
    assert "defaulted: clock_hz (1 GHz)" in hw.description
    assert hw.cost(Gemm(M=64, N=64, K=64, weights="int8", activations="int8")).latency_s > 0


def test_timeloop_errors(tmp_path):
    p = tmp_path / "arch.yaml"
    p.write_text(TIMELOOP_WS.replace("depth: 192", "depth: 12 * 16"))
    with pytest.raises(UnsupportedError, match="depth = '12 \\* 16': only numbers"):
        hwsim.load_arch(p)
    p.write_text(TIMELOOP_WS.replace("version: 0.4", "version: 0.3"))
    with pytest.raises(UnsupportedError, match="version = 0.3; 0.4 is supported"):
        hwsim.load_arch(p)
    p.write_text(TIMELOOP_WS.replace("class: intmac", "class: lut_unit"))
    with pytest.raises(UnsupportedError, match="'mac' of class 'lut_unit'"):
        hwsim.load_arch(p)
    p.write_text("{{include_text('defines.yaml')}}\n" + TIMELOOP_WS)
    with pytest.raises(UnsupportedError, match="Jinja"):
        hwsim.load_arch(p)
    p.write_text(TIMELOOP_WS + "sparse_opt: {}\n")
    with pytest.raises(ConfigError, match="unknown top-level key.*sparse_opt"):
        hwsim.load_arch(p)


@pytest.mark.parametrize("arch", ["mac-tc-int8", "h100-sxm", "zigzag"])
def test_exported_design_reimports_to_the_same_numbers(tmp_path, arch):
    import json

    from hwsim.arch import export_design
    if arch == "zigzag":
        hw = hwsim.load_arch(_write(tmp_path, TPU_LIKE), technology="45nm")
    else:
        hw = hwsim.load_arch(arch)
    wl = hwsim.load_workload("resnet18", batch=1, weights="int8", activations="int8") \
        if hw.family == "mac_array" else hwsim.load_workload("llama-2-7b", context=256)
    rep = hwsim.evaluate(wl, hw)
    path = tmp_path / "design.json"
    spec = export_design(hw, rep, path)
    assert spec["evaluation"]["totals"]["latency_s"] == rep.latency_s
    hw2 = hwsim.load_arch(path)
    assert type(hw2) is type(hw) and hw2.params == hw.params and hw2.name == hw.name
    rep2 = hwsim.evaluate(wl, hw2)
    saved = json.loads(path.read_text())["evaluation"]["totals"]
    assert (rep2.latency_s, rep2.energy_j) == (saved["latency_s"], saved["energy_j"])
