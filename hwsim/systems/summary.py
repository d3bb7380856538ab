"""Text the CLI prints for memory fit and tensor/pipeline-parallel evaluations."""

from __future__ import annotations

from ..errors import ConfigError
from .parallel import ParallelModel, min_tp


def memory_warning(rep, model, *, context: int, batch: int, weights: str, activations: str,
                   kv: str | None) -> str | None:
    """One line when an LLM report does not fit its device: need, capacity, smallest TP that fits."""
    if rep.workload.meta.get("kind") != "llm" or rep.fits is not False:
        return None
    m = rep.memory
    try:
        tp = min_tp(model, rep.hw.name, context=context, batch=batch, weights=weights,
                    activations=activations, kv=kv)
    except ConfigError:
        tp = None
    need = (f"tensor parallelism over {tp} devices fits (--tp {tp})" if tp else
            "no tensor-parallel degree up to 64 fits")
    return (f"warning: does not fit: needs {m.total_bytes / 1e9:.1f} GB (weights "
            f"{m.weights_bytes / 1e9:.1f} GB, KV {m.kv_bytes / 1e9:.2f} GB) of the "
            f"{m.capacity_bytes / 1e9:.1f} GB of one {rep.hw.name}; {need}")


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
