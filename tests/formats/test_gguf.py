import numpy as np
import pytest

from hwsim import formats as F


@pytest.mark.parametrize("name,bits,storage", [
    # ggml-common.h block structs: bytes per block * 8 / elements per block
    ("q4_0", 4, 18 * 8 / 32), ("q8_0", 8, 34 * 8 / 32), ("q2_k", 2, 84 * 8 / 256),
    ("q3_k", 3, 110 * 8 / 256), ("q4_k", 4, 144 * 8 / 256), ("q6_k", 6, 210 * 8 / 256)])
def test_block_layout_storage_bits(name, bits, storage):
    f = F.get(name)
    assert f.bits == bits and f.storage_bits == pytest.approx(storage)
    assert name in F.names()


def test_q4_0_hand_computed_block():
    # block of 32: largest magnitude -8 -> d = -8 / -8 = 1, codes q = x/d + 8
    x = np.arange(-8, 24, dtype=float) % 16 - 8  # -8..7 twice
    q = F.get("q4_0").quantize(x)
    assert q.codes.min() == 0 and q.codes.max() == 15
    assert np.array_equal(F.get("q4_0").dequantize(q), x)


def test_q8_0_is_absmax_over_127():
    x = np.linspace(-1, 1, 32)
    y = F.get("q8_0").quantize_dequantize(x)
    assert np.max(np.abs(y - x)) <= (1 / 127) / 2 * 1.01


def test_k_quant_scales_are_quantized_to_their_bits():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(256)
    q = F.get("q2_k").quantize(x)
    assert q.codes.shape == (1, 16, 16) and set(np.unique(q.codes)) <= {0, 1, 2, 3}
    step, zero = q.scale.reshape(16), q.zero_point.reshape(16)
    # sub-block steps and mins are 4-bit multiples of one fp16 scale each (d, dmin)
    d = step.max() / 15
    assert np.allclose(step / d, np.round(step / d), atol=1e-3)
    if zero.max() > 0:
        assert np.allclose(zero / (zero.max() / 15), np.round(zero / (zero.max() / 15)), atol=1e-3)


@pytest.mark.parametrize("name", ["q4_0", "q8_0", "q2_k", "q3_k", "q4_k", "q6_k"])
def test_round_trip_shape_and_error_ordering(name):
    x = np.random.default_rng(1).standard_normal((3, 500))
    y = F.get(name).quantize_dequantize(x)
    assert y.shape == x.shape and np.all(np.isfinite(y))
    assert F.sqnr_db(x, y) > {"q2_k": 5, "q3_k": 12, "q4_0": 18, "q4_k": 18, "q6_k": 30, "q8_0": 40}[name]


def test_more_bits_less_error():
    x = np.random.default_rng(2).standard_normal(4096)
    s = {n: F.sqnr_db(x, F.get(n).quantize_dequantize(x)) for n in ("q2_k", "q3_k", "q4_k", "q6_k", "q8_0")}
    assert s["q2_k"] < s["q3_k"] < s["q4_k"] < s["q6_k"] < s["q8_0"]


def test_zeros_and_padding():
    y = F.get("q4_k").quantize_dequantize(np.zeros(10))
    assert y.shape == (10,) and np.all(y == 0)
