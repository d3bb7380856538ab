"""``hwsim generate`` and ``hwsim serve``: argument handling kept out of the shared cli.py."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from ..errors import ConfigError, HwsimError
from .generate import check_fits, generate
from .serve import SchedulerConfig, poisson_requests, read_trace, serve, sweep
from .system import list_systems, load_system


def _system(args):
    for k in ("tp", "pp"):
        if getattr(args, k) < 1:
            raise HwsimError(f"--{k} = {getattr(args, k)}: expected a positive integer")
    return load_system(args.arch, None if args.arch in list_systems() else args.tp * args.pp)


def _len(text: str, flag: str):
    try:
        parts = [int(x) for x in str(text).split(":")]
    except ValueError:
        parts = []
    if len(parts) == 1 and parts[0] > 0:
        return parts[0]
    if len(parts) == 2 and 0 < parts[0] <= parts[1]:
        return tuple(parts)
    raise ConfigError(f"--{flag} = {text!r}: expected N or MIN:MAX positive integers")


def run_generate(args, write) -> int:
    for k in ("batch", "input_len", "output_len"):
        if getattr(args, k) < 1:
            raise HwsimError(f"--{k.replace('_', '-')} = {getattr(args, k)}: expected a positive "
                             "integer")
    rep = generate(args.workload, _system(args), batch=args.batch, input_len=args.input_len,
                   output_len=args.output_len, tp=args.tp, pp=args.pp, weights=args.weights,
                   activations=args.activations, kv=args.kv, paged=args.paged,
                   price_per_device_hour=args.price)
    check_fits(rep)  # refuses (exit 2) a configuration that does not fit
    print(rep)
    write(lambda p: Path(p).write_text(json.dumps(rep.as_dict(), indent=1)), args.json)
    return 0


def run_serve(args, write) -> int:
    sysm = _system(args)
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
            raise HwsimError(f"--rates = {args.rates!r}: expected comma-separated numbers") from None
        reps = sweep(args.workload, sysm, rates, plot=args.plot, n_requests=args.requests,
                     input_len=i_len, output_len=o_len, seed=args.seed, **common)
        rows = [r.as_dict() for r in reps]
        head = ["rate_per_s", "output_tokens_per_s", "ttft_s_p50", "ttft_s_p99", "tpot_s_p50",
                "tpot_s_p99", "preemptions"]
        print("  ".join(f"{h:>19}" for h in head))
        for d in rows:
            print("  ".join(f"{d[h]:19.4g}" for h in head))
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
