"""Requests a serving run takes: Poisson arrivals, a CSV trace, or a list -- every field checked
(finite arrivals, lengths in range, bounded counts) before the simulation starts."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError, check_positive_int

# Bounds on what one run simulates: each request costs ~0.5 kB of Python objects, so a million
# stay near 0.5 GB; longer runs are sweeps or traces split into parts.
MAX_REQUESTS = 1_000_000
MAX_TOKENS = 2**31 - 1     # per request (int32 token positions)


@dataclass(frozen=True)
class Request:
    id: int
    arrival_s: float
    input_len: int
    output_len: int


def _length(v, rng, n, what):
    if isinstance(v, int) and not isinstance(v, bool) and v <= MAX_TOKENS:
        check_positive_int("serve", what, v)
        return np.full(n, v, dtype=int)
    if isinstance(v, (tuple, list)) and len(v) == 2 and all(isinstance(x, int) for x in v) \
            and 1 <= v[0] <= v[1] <= MAX_TOKENS:
        return rng.integers(v[0], v[1] + 1, size=n)
    raise ConfigError(f"serve: {what} = {v!r}: expected a positive integer or a (min, max) pair")


def poisson_requests(n: int, rate_per_s: float, input_len=512, output_len=128,
                     seed: int = 0) -> list[Request]:
    """``n`` requests with exponential inter-arrival times at ``rate_per_s`` (Poisson process);
    lengths fixed or drawn uniformly from ``(min, max)``."""
    check_positive_int("serve", "requests", n)
    if n > MAX_REQUESTS:
        raise ConfigError(f"serve: requests = {n}: expected at most {MAX_REQUESTS:,} per run")
    if isinstance(rate_per_s, bool) or not isinstance(rate_per_s, (int, float)) or \
            not 0 < rate_per_s < math.inf:
        raise ConfigError(f"serve: rate = {rate_per_s!r}: expected a finite number of requests "
                          "per second > 0")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
        raise ConfigError(f"serve: seed = {seed!r}: expected an integer >= 0")
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.exponential(1.0 / rate_per_s, size=n))
    i, o = _length(input_len, rng, n, "input_len"), _length(output_len, rng, n, "output_len")
    return [Request(k, float(t[k]), int(i[k]), int(o[k])) for k in range(n)]


def read_trace(path) -> list[Request]:
    """Requests from a CSV with columns ``arrival_s,input_len,output_len``."""
    p = Path(path)
    out = []
    try:
        with p.open(encoding="utf-8", newline="") as f:
            for k, r in enumerate(csv.DictReader(f)):
                if k >= MAX_REQUESTS:
                    raise ConfigError(f"{p}: more than {MAX_REQUESTS:,} requests: split the trace")
                out.append(_trace_row(p, k, r))
    except OSError as e:
        raise ConfigError(f"{p}: cannot read trace ({e.strerror})") from None
    except (UnicodeDecodeError, csv.Error) as e:
        raise ConfigError(f"{p}: not a UTF-8 CSV trace ({e})") from None
    if not out:
        raise ConfigError(f"{p}: trace has no requests")
    return sorted(out, key=lambda r: r.arrival_s)


def _trace_row(p: Path, k: int, r: dict) -> Request:
    """Row ``k`` (line ``k + 2``) of a trace, every field checked: finite arrival >= 0, lengths
    whole numbers in [1, 2^31)."""
    try:
        req = Request(k, float(r["arrival_s"]), int(r["input_len"]), int(r["output_len"]))
    except (KeyError, TypeError, ValueError):
        raise ConfigError(f"{p}: row {k + 2}: expected numeric columns arrival_s, input_len, "
                          f"output_len, got {dict(r)}") from None
    if not 0 <= req.arrival_s < math.inf:
        raise ConfigError(f"{p}: row {k + 2}: arrival_s = {r['arrival_s']!r}: expected a finite "
                          "time >= 0 (seconds)")
    for f in ("input_len", "output_len"):
        if not 1 <= getattr(req, f) <= MAX_TOKENS:
            raise ConfigError(f"{p}: row {k + 2}: {f} = {r[f]!r}: expected an integer in "
                              f"[1, {MAX_TOKENS}]")
    return req



def _checked_requests(requests) -> list[Request]:
    """A non-empty list of :class:`Request` with finite arrivals and positive lengths."""
    if isinstance(requests, (str, bytes)) or not hasattr(requests, "__len__"):
        raise ConfigError(f"serve: requests = {type(requests).__name__}: expected a list of "
                          "Request (or requests=None with rate_per_s / concurrency)")
    if not len(requests):
        raise ConfigError("serve: requests = []: expected at least one Request")
    if len(requests) > MAX_REQUESTS:
        raise ConfigError(f"serve: {len(requests):,} requests: expected at most "
                          f"{MAX_REQUESTS:,} per run")
    for k, r in enumerate(requests):
        if not isinstance(r, Request):
            raise ConfigError(f"serve: requests[{k}] = {r!r}: expected a Request")
        ok = (isinstance(r.arrival_s, (int, float)) and 0 <= r.arrival_s < math.inf
              and all(isinstance(x, int) and 1 <= x <= MAX_TOKENS
                      for x in (r.input_len, r.output_len)))
        if not ok:
            raise ConfigError(f"serve: requests[{k}] = {r!r}: expected arrival_s finite >= 0 and "
                              f"input_len, output_len integers in [1, {MAX_TOKENS}]")
    return list(requests)
