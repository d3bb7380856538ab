"""Device memory: weights, KV cache and activation workspace against each device's capacity.

* weights: every parameter in its storage format (group/block scales included);
* KV cache: ``2 (K and V) x kv_heads x head_dim x kv storage bits / 8`` bytes per token per layer,
  paged KV (vLLM's PagedAttention) rounds each sequence up to whole blocks of ``block_tokens``
  tokens (vLLM default block size 16: vLLM docs, engine argument ``--block-size``);
* workspace: the live activations of the largest op (its input and output, weights and KV
  excluded) -- what a serving engine's activation buffers must hold at once. The CUDA context and
  allocator slack are not modelled (vLLM reserves them through ``gpu_memory_utilization``, default
  0.9 of the device: vLLM docs, engine arguments), see :data:`GPU_MEMORY_UTILIZATION`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .. import formats as _formats
from ..workload.ops import Attention

BLOCK_TOKENS = 16             # vLLM PagedAttention default block size (tokens per KV block)
GPU_MEMORY_UTILIZATION = 0.9  # vLLM default fraction of device memory it may use


def device_memory_bytes(hw) -> float | None:
    """Memory capacity of one device in bytes (GPU HBM, FPGA card DRAM), None when the family
    does not say (its :class:`~hwsim.contract.HardwareSummary`)."""
    cap = hw.summary().mem_capacity_bytes
    return float(cap) if cap else None


def kv_tokens(tokens: int, paged: bool, block_tokens: int = BLOCK_TOKENS) -> int:
    """Token slots one sequence of ``tokens`` tokens occupies (paged: whole blocks)."""
    return block_tokens * math.ceil(tokens / block_tokens) if paged else tokens


@dataclass(frozen=True)
class Memory:
    """Bytes one device holds: weights, KV cache and activation workspace."""

    weights_bytes: float
    kv_bytes: float
    workspace_bytes: float
    capacity_bytes: float | None

    @property
    def total_bytes(self) -> float:
        return self.weights_bytes + self.kv_bytes + self.workspace_bytes

    @property
    def fits(self) -> bool | None:
        """True / False against the device capacity; None when the capacity is unknown."""
        return None if self.capacity_bytes is None else self.total_bytes <= self.capacity_bytes

    @property
    def verdict(self) -> str:
        return {True: "fits", False: "DOES NOT FIT", None: "capacity unknown"}[self.fits]

    def line(self) -> str:
        cap = "unknown capacity" if self.capacity_bytes is None else \
            f"{self.capacity_bytes / 1e9:.1f} GB"
        return (f"{self.total_bytes / 1e9:.1f} GB of {cap} (weights {self.weights_bytes / 1e9:.1f}"
                f", KV {self.kv_bytes / 1e9:.2f}, workspace {self.workspace_bytes / 1e9:.2f} GB)")


def fmt_bytes(b: float) -> str:
    """Bytes with a unit that suits the size (an MCU's KiB as well as a GPU's GB)."""
    for unit, f in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if b >= f:
            return f"{b / f:.3g} {unit}"
    return f"{b:.0f} B"


def _bytes(numel: float, fmt: str) -> float:
    return numel * _formats.get(fmt).storage_bits / 8


def op_activation_bytes(op) -> float:
    """Live activation bytes of one op: its operand bytes less weights (and less KV for attention)."""
    if isinstance(op, Attention):
        q = op.batch * op.heads * op.q_len * op.head_dim
        return _bytes(q, op.activations) + _bytes(q, op.out)
    return max(0.0, op.bytes - op.weight_bytes)


def kv_cache_bytes(wl, paged: bool = False) -> float:
    """KV-cache bytes of a workload: every attention op's cached keys and values."""
    total = 0.0
    for op in wl.ops:
        if isinstance(op, Attention):
            toks = kv_tokens(op.kv_len, paged)
            total += op.batch * toks * 2 * op.kv_heads * op.head_dim * \
                _formats.get(op.kv).storage_bits / 8
    return total


def workload_memory(wl, hw, paged: bool = False) -> Memory:
    """Memory one device needs to run ``wl`` (all of it on this device)."""
    ws = max((op_activation_bytes(op) for op in wl.ops), default=0.0)
    return Memory(wl.weight_bytes, kv_cache_bytes(wl, paged), ws, device_memory_bytes(hw))
