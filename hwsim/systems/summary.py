"""Text the CLI prints for memory fit and tensor/pipeline-parallel evaluations."""

from __future__ import annotations

import math

from ..errors import ConfigError, HwsimError
from .memory import fmt_bytes
from .parallel import ParallelModel, llm_config, min_tp
from .system import device_system


def does_not_fit(wl, hw, m, model=None) -> str:
    """One line: what ``wl`` needs of ``hw``'s memory and, for an LLM, the smallest
    tensor-parallel degree (device count) whose per-device share fits."""
    parts = f"weights {fmt_bytes(m.weights_bytes)}" + (
        f", KV {fmt_bytes(m.kv_bytes)}" if m.kv_bytes else "") + \
        f", workspace {fmt_bytes(m.workspace_bytes)}"
    msg = (f"does not fit: {wl.name} needs {fmt_bytes(m.total_bytes)} ({parts}) of the "
           f"{fmt_bytes(m.capacity_bytes)} of one {hw.name}")
    if wl.meta.get("kind") != "llm":
        return msg + "; lower --batch / --image-size or pick a device with more memory"
    cfg = _config(model) if model is not None else None
    if cfg is not None:  # exact: a valid degree (divides the heads) whose shard fits
        tp = _smallest_tp(wl, hw, cfg)
        return msg + (f"; tensor parallelism over {tp} devices fits (--tp {tp})" if tp else
                      "; no tensor-parallel degree up to 64 fits (lower --batch or --context)")
    # an imported model (GGUF, checkpoint folder): weights and KV split n ways, workspace not
    n = math.ceil((m.weights_bytes + m.kv_bytes) / max(1.0, m.capacity_bytes - m.workspace_bytes))
    return msg + (f"; its weights and KV cache need at least {n} devices' memory" if n <= 64
                  else "; more than 64 devices' memory (lower --batch or --context)")


def _config(model):
    try:
        return llm_config(model)
    except HwsimError:
        return None  # a GGUF / checkpoint folder: no LLMConfig to shard


def _smallest_tp(wl, hw, cfg) -> int | None:
    m = wl.meta
    try:
        return min_tp(cfg, device_system(hw), context=m["context"], batch=m["batch"],
                      weights=m["weights"], activations=m["activations"], kv=m.get("kv"))
    except HwsimError:
        return None


def memory_warning(rep, model, *, context: int, batch: int, weights: str, activations: str,
                   kv: str | None) -> str | None:
    """One line when an LLM report does not fit its device: need, capacity, smallest TP that fits."""
    if rep.workload.meta.get("kind") != "llm" or rep.fits is not False:
        return None
    return "warning: " + does_not_fit(rep.workload, rep.hw, rep.memory, model)


def parallel_eval(model, system, *, phase: str, batch: int, context: int, tp: int, pp: int,
                  weights: str, activations: str, kv: str | None) -> tuple[str, bool]:
    """(text, fits) of one forward step of ``model`` sharded ``tp x pp`` over ``system``."""
    pm = ParallelModel(model, system, tp=tp, pp=pp, weights=weights, activations=activations,
                       kv=kv)
    if phase == "decode":
        st = pm.step(batch, batch, [(batch, 1, context + 1)])
        mem = pm.memory(batch, context + 1)
        new = batch
    elif phase == "prefill":
        st = pm.step(batch * context, batch, [(batch, context, context)])
        mem = pm.memory(batch, context, step_tokens=batch * context)
        new = batch * context
    else:
        raise ConfigError(f"phase = {phase!r}: --tp/--pp model prefill or decode steps")
    # one token step passes all pp stages; with pp micro-batches in flight each stage stays busy
    lat = pp * st.latency_s
    s = pm.system
    lines = [f"{pm.cfg.name} {phase} on {tp * pp}x {s.device.name} (tp={tp}, pp={pp}, "
             f"{s.intra.name}{' + ' + s.switch.name if s.switch else ''}), batch={batch}, "
             f"context={context}, weights={weights}, activations={activations}, "
             f"kv={kv or activations}",
             f"  per stage step: {st.latency_s * 1e3:.3f} ms (compute {st.compute_s * 1e3:.3f} ms,"
             f" communication {st.comm_s * 1e3:.3f} ms)",
             f"  step latency: {lat * 1e3:.3f} ms, {new / lat:.1f} tokens/s "
             f"(pipeline full: {new * pp / lat:.1f} tokens/s)" if pp > 1 else
             f"  step latency: {lat * 1e3:.3f} ms, {new / lat:.1f} tokens/s",
             f"  energy: {st.energy_j * tp * pp:.3g} J per step (all devices)",
             f"  memory per device: {mem.line()} -> {mem.verdict}"]
    if mem.fits is False:
        need = min_tp(pm.cfg, s, context=context, batch=batch, pp=pp, weights=weights,
                      activations=activations, kv=kv)
        lines.append(f"  warning: does not fit; smallest tensor-parallel degree that fits: "
                     + (f"--tp {need}" if need else "none up to 64"))
    return "\n".join(lines), bool(mem.fits) if mem.fits is not None else True
