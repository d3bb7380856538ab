"""Reading text files (hwsim/_paths.py): bytes that are not UTF-8 text, or not the format, are a
one-line ConfigError naming the file (issue 21)."""

import struct

import pytest

from hwsim._paths import read_json, read_yaml
from hwsim.arch import load_arch
from hwsim.errors import ConfigError
from hwsim.workload import load_workload

CASES = {
    "latin1.yaml": (b"name: caf\xe9\n", "not UTF-8"),
    "nul.yaml": (b"a: 1\x00\n", "binary"),
    "model.yaml": (b"GGUF" + struct.pack("<IQQ", 3, 0, 0), "GGUF"),
    "broken.yaml": (b"a: [\n", "invalid YAML"),
    "list.yaml": (b"- 1\n- 2\n", "mapping"),
    "tabs.yaml": (b"a:\n\t- 1\n", "invalid YAML"),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("reader", [read_yaml, load_arch, load_workload],
                         ids=["read_yaml", "load_arch", "load_workload"])
def test_bad_yaml_files(tmp_path, name, reader):
    raw, words = CASES[name]
    p = tmp_path / name
    p.write_bytes(raw)
    with pytest.raises(ConfigError) as e:
        reader(p)
    msg = str(e.value)
    assert "\n" not in msg and str(p) in msg and words in msg


def test_bad_json(tmp_path):
    p = tmp_path / "c.json"
    p.write_bytes(b'{"a": \xff}')
    with pytest.raises(ConfigError, match="not UTF-8"):
        read_json(p)
    p.write_text('{"a": ')
    with pytest.raises(ConfigError, match="invalid JSON"):
        read_json(p)
