"""GenZ (pip ``genz-llm``) on the cases of systems_compare.py; runs in GenZ's own interpreter.

Reads the cases as JSON on stdin, prints {id: {"value": ..., "seconds": ...}} as one JSON line.
Static generation in GenZ's terms: prefill_moddeling(batch x input) for the first token, then
``output - 1`` decode steps costed by decode_moddeling at the mid-generation context
(input + output/2 cached tokens; decode attention is linear in the context, so the mean step is
the step at the mean context). Latencies from GenZ are in ms.
"""

import json
import sys
import time
import warnings

warnings.filterwarnings("ignore")

from GenZ import decode_moddeling, prefill_moddeling  # noqa: E402
from Systems.system_configs import system_configs  # noqa: E402

MODELS = {"llama-2-7b": "llama2_7b", "llama-2-70b": "llama2_70b"}
SYSTEMS = {"dgx-h100": "H100_GPU", "dgx-a100": "A100_80GB_GPU"}
BITS = {"fp8_e4m3": "fp8", "fp16": "bf16"}  # GenZ has no fp16 entry: bf16 is the same width


def run(c):
    t0 = time.perf_counter()
    kw = dict(model=MODELS[c["model"]], system_name=system_configs[SYSTEMS[c["system"]]],
              bits=BITS[c["formats"]["weights"]], tensor_parallel=c["tp"])
    pre = prefill_moddeling(batch_size=c["batch"], input_tokens=c["input"], **kw)["Latency"]
    total_ms = pre
    if c["output"] > 1:
        dec = decode_moddeling(batch_size=c["batch"], input_tokens=c["input"],
                               output_tokens=c["output"] // 2, Bb=1, **kw)["Latency"]
        total_ms += (c["output"] - 1) * dec
    dt = time.perf_counter() - t0
    if c["metric"] == "ttft_ms":
        value = float(pre)
    else:
        value = c["batch"] * c["output"] / (total_ms / 1e3)
        if c["metric"] == "out_tok_s_per_gpu":
            value /= c["tp"]
    return {"value": float(value), "seconds": dt}


out = {}
for c in json.loads(sys.stdin.read()):
    try:
        out[c["id"]] = run(c)
    except Exception as e:  # report GenZ's refusal per case rather than stopping
        out[c["id"]] = {"value": None, "seconds": None, "error": f"{type(e).__name__}: {e}"}
print(json.dumps(out))
