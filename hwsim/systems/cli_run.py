"""``hwsim generate`` and ``hwsim serve``: argument handling kept out of the shared cli.py."""

from __future__ import annotations

import csv
import json
import math
import sys
from pathlib import Path

from ..errors import ConfigError, HwsimError
from .generate import check_fits, generate
from .parallel import min_tp
from .serve import MAX_TOKENS, SchedulerConfig, poisson_requests, read_trace, serve, sweep
from .system import _presets, device_system, list_systems, load_system


def cli_system(args):
    """The system ``--arch``, ``--tp``, ``--pp`` and ``--set`` describe. An arch preset is ganged
    within one node of its board (``devices_per_node``); more devices than that, or than a system
    preset holds, is an error rather than a system nobody builds."""
    from .._cliargs import int_arg, set_overrides
    for k in ("tp", "pp"):
        int_arg(k, getattr(args, k))
    n = args.tp * args.pp
    overrides = set_overrides(getattr(args, "set", []) or [])
    if args.arch in list_systems():
        if overrides:
            from .._cliargs import _merge_preset
            _merge_preset(overrides, _presets()[args.arch]["device"])
        sysm = load_system(args.arch, overrides=overrides)
        if n > sysm.devices:
            raise HwsimError(f"--tp {args.tp} x --pp {args.pp} = {n} devices: {sysm.name} has "
                             f"{sysm.devices}")
        return sysm
    from .._cliargs import load_arch_args
    hw = load_arch_args(args, model="default")
    node = device_system(hw)
    if n > node.devices_per_node:
        raise HwsimError(
            f"--tp {args.tp} x --pp {args.pp} = {n} devices: {hw.name} is a single-device preset "
            f"ganged within one node of {node.devices_per_node} ({node.intra.name}); for a "
            f"multi-device system name a system preset ({', '.join(_sized_systems())})")
    return device_system(hw, n)


def _sized_systems() -> list[str]:
    return [f"{k}: {v.get('devices')}x {v.get('device')}" for k, v in sorted(_presets().items())]


def _len(text: str, flag: str):
    try:
        parts = [int(x) for x in str(text).split(":")]
    except ValueError:
        parts = []
    if len(parts) == 1 and 0 < parts[0] <= MAX_TOKENS:
        return parts[0]
    if len(parts) == 2 and 0 < parts[0] <= parts[1] <= MAX_TOKENS:
        return tuple(parts)
    raise ConfigError(f"--{flag} = {text!r}: expected N or MIN:MAX, integers in [1, {MAX_TOKENS}]")


def run_generate(args, write) -> int:
    sysm = cli_system(args)
    kw = dict(tp=args.tp, pp=args.pp, weights=args.weights, activations=args.activations,
              kv=args.kv)
    try:  # memory is checked before any step is costed (a batch of 1e9 fails at once)
        rep = generate(args.workload, sysm, batch=args.batch, input_len=args.input_len,
                       output_len=args.output_len, paged=args.paged,
                       price_per_device_hour=args.price, require_fit=True, **kw)
    except ConfigError as e:
        if not str(e).startswith("does not fit"):
            raise
        kw.pop("tp")
        tp = min_tp(args.workload, sysm, context=args.input_len + args.output_len,
                    batch=args.batch, **kw)
        raise ConfigError(f"{e}; " + (f"--tp {tp} fits" if tp else "no --tp up to 64 fits "
                                      "(lower --batch or the lengths)")) from None
    check_fits(rep)
    print(rep)
    write(lambda p: Path(p).write_text(json.dumps(rep.as_dict(), indent=1)), args.json)
    return 0


def run_serve(args, write) -> int:
    sysm = cli_system(args)
    sc = SchedulerConfig(max_num_seqs=args.max_num_seqs,
                         max_num_batched_tokens=args.max_batched_tokens)
    common = dict(tp=args.tp, pp=args.pp, weights=args.weights, activations=args.activations,
                  kv=args.kv, scheduler=sc)
    i_len, o_len = _len(args.input_len, "input-len"), _len(args.output_len, "output-len")
    if args.rates:
        if args.trace:
            raise HwsimError("--rates and --trace exclude each other")
        try:
            rates = [float(x) for x in args.rates.split(",")]
        except ValueError:
            rates = []
        if not rates or not all(0 < r < math.inf for r in rates):
            raise HwsimError(f"--rates = {args.rates!r}: expected comma-separated finite request "
                             "rates > 0 (per second)")
        reps = sweep(args.workload, sysm, rates, plot=args.plot, n_requests=args.requests,
                     input_len=i_len, output_len=o_len, seed=args.seed, **common)
        rows = [r.as_dict() for r in reps]
        head = ["rate_per_s", "output_tokens_per_s", "ttft_s_p50", "ttft_s_p99", "tpot_s_p50",
                "tpot_s_p99", "preemptions"]
        print("  ".join(f"{h:>19}" for h in head))
        for d in rows:
            print("  ".join(f"{d[h]:19.4g}" if d[h] is not None else f"{'n/a':>19}"
                            for h in head))
    else:
        if args.trace:
            reqs = read_trace(args.trace)
        elif args.rate or args.concurrency:
            reqs = poisson_requests(args.requests, args.rate or 1.0, i_len, o_len, args.seed)
        else:
            raise HwsimError("give --rate R, --rates R1,R2,..., --concurrency C or --trace FILE")
        rep = serve(args.workload, sysm, reqs, rate_per_s=args.rate, warmup=args.warmup,
                    concurrency=args.concurrency, **common)
        print(rep)
        rows = [rep.as_dict()]
        if args.plot:
            write(rep.plot, args.plot)
    write(lambda p: Path(p).write_text(json.dumps(rows, indent=1)), args.json)
    if args.csv:
        def w(p):
            with open(p, "w", newline="") as f:
                cw = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
                cw.writeheader()
                cw.writerows(rows)
        write(w, args.csv)
    sys.stdout.flush()
    return 0
