"""NCCL-like collective times: latency terms plus bytes over achievable bandwidth.

For ``n`` ranks, ``size_bytes`` the buffer each rank holds (all-reduce input, all-gather output,
reduce-scatter input, all-to-all send buffer), link bandwidth ``B`` per direction:

* ring all-reduce: ``base + 2(n-1)·hop + 2(n-1)/n · S / (B·eff)``;
* tree all-reduce (double binary tree, no duplex overlap assumed):
  ``base + 2⌈log2 n⌉·hop + 2·S / (B·eff)``;
* NVLS all-reduce (NVLink SHARP, 3rd-gen NVSwitch): ``nvls_latency + S / (B·nvls_eff)``;
* ring all-gather / reduce-scatter, all-to-all through a switch:
  ``base + (n-1)·hop + (n-1)/n · S / (B·eff)``.

Each is evaluated with NCCL's two extreme protocols — LL (low latency, half the bandwidth: an
8-byte flag per 8 data bytes) and Simple (full bandwidth at ``simple_eff``, higher latency) — and
the fastest algorithm/protocol is used, as NCCL's tuner does.

Constants and what set them (no multi-GPU measurement was possible in this session):

* ``BASE_LAT_S`` (LL 6.6 µs, Simple 8.4 µs) and the per-hop latencies of the interconnect table:
  NVIDIA/nccl ``src/graph/tuning.cc`` (baseLat, hwLat; 2.18–2.21 era), not fitted.
* ``SIMPLE_EFF = 370/450 = 0.822``: FITTED to the NCCL maintainer's statement that NVLink 4
  (450 GB/s line rate) reaches ~370 GB/s bus bandwidth with ring / non-all-reduce collectives
  (NVIDIA/nccl-tests issue #212). Used for every link type (an assumption for PCIe / networks).
* ``NVLS_EFF = 275/450 = 0.611`` (algorithm bandwidth over line rate): FITTED to the same source's
  "peak busBw ~480 GB/s (algbw ~275 GB/s)" for 8 H100 with NVLS.
* ``NVLS_LATENCY_S = 25 µs``: nccl tuning.cc hwLat NVLINK NVLS Simple.

Checks against data that did not fit them are in :mod:`hwsim.validate.systems`.

>>> t = all_reduce_s(1 << 30, 8, link("nvlink4"), nvls=True)
>>> round((1 << 30) / t * 2 * 7 / 8 / 1e9)   # bus bandwidth, GB/s
480
"""

from __future__ import annotations

import math

from ..errors import ConfigError
from .interconnect import Interconnect, link

BASE_LAT_S = {"LL": 6.6e-6, "Simple": 8.4e-6}      # nccl tuning.cc baseLat Ring
HOP_SCALE = {"LL": 1.0, "Simple": 3.4 / 0.6}       # hwLat Ring Simple / LL on NVLink (3.4 / 0.6 us)
PROTO_BW = {"LL": 0.5, "Simple": 1.0}              # LL: 8-byte flag per 8 data bytes
SIMPLE_EFF = 370.0 / 450.0                         # fitted: nccl-tests#212 (NVLink 4 ring busbw)
NVLS_EFF = 275.0 / 450.0                           # fitted: nccl-tests#212 (NVLS algbw, 8x H100)
NVLS_LATENCY_S = 25e-6                             # nccl tuning.cc hwLat NVLS Simple
OPS = ("all_reduce", "all_gather", "reduce_scatter", "all_to_all")


def _check(size_bytes: float, n: int) -> None:
    if not isinstance(n, int) or n < 1:
        raise ConfigError(f"collective: ranks = {n!r}: expected a positive integer")
    if size_bytes < 0:
        raise ConfigError(f"collective: size_bytes = {size_bytes!r}: expected >= 0")


def _best(size_bytes, lk: Interconnect, steps: float, traffic: float) -> float:
    """Fastest protocol for ``steps`` latency hops and ``traffic`` × S bytes per link."""
    best = math.inf
    for proto in ("LL", "Simple"):
        bw = lk.bandwidth_Bps * SIMPLE_EFF * PROTO_BW[proto]
        t = BASE_LAT_S[proto] + steps * lk.hop_latency_s * HOP_SCALE[proto] + traffic * size_bytes / bw
        best = min(best, t)
    return best


def all_reduce_s(size_bytes: float, n: int, lk: Interconnect | str, *, nvls: bool = False,
                 algorithm: str = "auto") -> float:
    """Seconds for an all-reduce of ``size_bytes`` per rank over ``n`` ranks.

    ``algorithm``: ``auto`` (fastest of those available), ``ring``, ``tree`` or ``nvls``."""
    _check(size_bytes, n)
    if n == 1:
        return 0.0
    lk = link(lk)
    cands = {"ring": _best(size_bytes, lk, 2 * (n - 1), 2 * (n - 1) / n),
             "tree": _best(size_bytes, lk, 2 * math.ceil(math.log2(n)), 2.0)}
    if nvls:
        cands["nvls"] = NVLS_LATENCY_S + size_bytes / (lk.bandwidth_Bps * NVLS_EFF)
    if algorithm == "auto":
        return min(cands.values())
    if algorithm not in cands:
        raise ConfigError(f"all_reduce: algorithm = {algorithm!r}: expected auto or one of "
                          f"{', '.join(cands)}" + ("" if nvls else " (nvls needs an NVLS switch)"))
    return cands[algorithm]


def all_gather_s(size_bytes: float, n: int, lk: Interconnect | str) -> float:
    """Ring all-gather producing ``size_bytes`` (the gathered buffer) on every rank."""
    _check(size_bytes, n)
    return 0.0 if n == 1 else _best(size_bytes, link(lk), n - 1, (n - 1) / n)


reduce_scatter_s = all_gather_s  # same ring traffic, ``size_bytes`` = the full input per rank


# all-to-all through a switch: each rank sends (n-1)/n of its ``size_bytes`` buffer, the ring
# all-gather's traffic
all_to_all_s = all_gather_s


def p2p_s(size_bytes: float, lk: Interconnect | str) -> float:
    """One send/receive (pipeline-stage activations): one hop at the Simple/LL optimum."""
    _check(size_bytes, 2)
    return _best(size_bytes, link(lk), 1, 1.0)


def bus_bandwidth_Bps(op: str, size_bytes: float, n: int, seconds: float) -> float:
    """nccl-tests' busbw of a measured/predicted time (all-reduce: algbw · 2(n-1)/n)."""
    if op not in OPS:
        raise ConfigError(f"op = {op!r}: expected one of {', '.join(OPS)}")
    factor = 2 * (n - 1) / n if op == "all_reduce" else (n - 1) / n
    return size_bytes / seconds * factor
