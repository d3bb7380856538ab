"""safetensors headers: tensor names, dtypes and shapes without reading any tensor data.

Format (https://github.com/huggingface/safetensors, README "Format"): 8 bytes little-endian
unsigned N, then N bytes of UTF-8 JSON mapping each tensor name to ``{"dtype", "shape",
"data_offsets"}`` (plus an optional ``"__metadata__"`` string map), then the raw data. Sharded
checkpoints list the file of each tensor in ``model.safetensors.index.json`` (``weight_map``).
Parsed with ``struct`` and ``json`` (no ``safetensors`` dependency): only the header is read.
"""

from __future__ import annotations

import json
import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from .._paths import read_json
from ..errors import ConfigError

MAX_HEADER_BYTES = 100 * 2 ** 20  # the reference implementation's own limit (100 MB)
MAX_DIM = 2 ** 40  # one tensor dimension beyond 1e12 elements is a corrupt header
# dtype -> bits per element (the dtypes of the safetensors spec, incl. its fp8/fp4 additions)
DTYPE_BITS = {"F64": 64, "F32": 32, "F16": 16, "BF16": 16, "I64": 64, "I32": 32, "I16": 16,
              "I8": 8, "U64": 64, "U32": 32, "U16": 16, "U8": 8, "BOOL": 8, "F8_E4M3": 8,
              "F8_E5M2": 8, "F8_E8M0": 8, "F6_E2M3": 6, "F6_E3M2": 6, "F4": 4}
# float dtypes as hwsim format names
DTYPE_FORMAT = {"F32": "fp32", "F16": "fp16", "BF16": "bf16", "F8_E4M3": "fp8_e4m3",
                "F8_E5M2": "fp8_e5m2", "F4": "fp4_e2m1"}


@dataclass(frozen=True)
class TensorInfo:
    name: str
    dtype: str
    shape: tuple[int, ...]
    file: str = ""

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


def read_header(path: str | Path) -> dict[str, TensorInfo]:
    """Tensor infos of one ``.safetensors`` file (only the header bytes are read)."""
    p = Path(path)
    try:
        with open(p, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            head = f.read(8)
            if len(head) < 8:
                raise ConfigError(f"{p}: not a safetensors file (shorter than its 8-byte header "
                                  "length)")
            (n,) = struct.unpack("<Q", head)
            if n > MAX_HEADER_BYTES:
                raise ConfigError(f"{p}: safetensors header length {n} exceeds "
                                  f"{MAX_HEADER_BYTES} bytes; not a safetensors file?")
            if n > size - 8:  # bound by the file before allocating
                raise ConfigError(f"{p}: safetensors header truncated (claims {n} bytes, the "
                                  f"file has {size - 8} after the length)")
            raw = f.read(n)
    except OSError as e:
        raise ConfigError(f"{p}: cannot read safetensors header ({e.strerror or e})") from None
    if len(raw) < n:
        raise ConfigError(f"{p}: safetensors header truncated ({len(raw)} of {n} bytes)")
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise ConfigError(f"{p}: safetensors header is not JSON "
                          f"({' '.join(str(e).split())[:120]})") from None
    if not isinstance(header, dict):
        raise ConfigError(f"{p}: safetensors header must be a JSON object")
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(info, dict) or "dtype" not in info or "shape" not in info:
            raise ConfigError(f"{p}: tensor {name!r}: header entry needs 'dtype' and 'shape', "
                              f"got {info!r}")
        dt = info["dtype"]
        if dt not in DTYPE_BITS:
            raise ConfigError(f"{p}: tensor {name!r}: dtype {dt!r} is not a safetensors dtype "
                              f"({', '.join(DTYPE_BITS)})")
        shape = info["shape"]
        if not isinstance(shape, list) or len(shape) > 8 or not all(
                isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= MAX_DIM
                for d in shape):
            raise ConfigError(f"{p}: tensor {name!r}: shape {shape!r} must be a list of at most 8 "
                              f"integers in [0, {MAX_DIM}]")
        out[name] = TensorInfo(name, dt, tuple(shape), p.name)
    return out


def _shard(index: Path, d: Path, tensor, file) -> Path:
    """A ``weight_map`` entry's shard: a file name inside the checkpoint folder. Absolute paths
    and ``..`` are refused, so an index cannot make hwsim read files elsewhere."""
    if not isinstance(file, str) or not file.strip():
        raise ConfigError(f"{index}: weight_map[{tensor!r}] = {file!r}: expected a shard file name")
    rel = Path(file)
    if rel.is_absolute() or ".." in rel.parts or rel.drive or "\\" in file:
        raise ConfigError(f"{index}: weight_map[{tensor!r}] = {file!r}: expected a file inside "
                          f"the checkpoint folder (no absolute path, no '..')")
    # the name is checked, not where it resolves: a Hugging Face cache snapshot's shards are
    # symlinks into ../../blobs, placed there by the user's own download
    return d / rel


def read_checkpoint(directory: str | Path) -> dict[str, TensorInfo]:
    """Tensor infos of all safetensors files of a checkpoint directory (sharded via
    ``model.safetensors.index.json`` or single files); empty when it has none. A shard the
    index names but the directory lacks is an error naming it."""
    d = Path(directory)
    index = d / "model.safetensors.index.json"
    files: list[Path]
    if index.is_file():
        data = read_json(index, "safetensors index JSON")
        wm = data.get("weight_map") if isinstance(data, dict) else None
        if not isinstance(wm, dict):
            raise ConfigError(f"{index}: expected a JSON object whose field 'weight_map' maps "
                              f"tensor names to shard files, got "
                              f"{type(wm if isinstance(data, dict) else data).__name__}")
        files = [_shard(index, d, t, f) for t, f in sorted(wm.items(), key=lambda x: str(x[1]))]
        files = list(dict.fromkeys(files))
        missing = [f.name for f in files if not f.is_file()]
        if missing:
            raise ConfigError(f"{index}: shard(s) {', '.join(missing)} not found in {d}")
    else:
        files = sorted(d.glob("*.safetensors"))
    out: dict[str, TensorInfo] = {}
    for f in files:
        out.update(read_header(f))
    return out


def write_header(path: str | Path, tensors: dict[str, tuple[str, list[int]]],
                 with_data: bool = False) -> Path:
    """Write a safetensors file with these ``name -> (dtype, shape)`` entries (test fixtures and
    examples). Without ``with_data`` the data section is left out: readers of the header (this
    module) accept it, loaders of the data do not."""
    header, off = {}, 0
    for name, (dt, shape) in tensors.items():
        nbytes = math.ceil(math.prod(shape) * DTYPE_BITS[dt] / 8)
        header[name] = {"dtype": dt, "shape": list(shape), "data_offsets": [off, off + nbytes]}
        off += nbytes
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)  # the spec pads the header with spaces to 8-byte alignment
    p = Path(path)
    with open(p, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw)
        if with_data:
            f.write(b"\0" * off)
    return p
