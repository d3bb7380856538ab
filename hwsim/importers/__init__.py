"""Readers of the model and hardware files people already have, one module per source format.

* :mod:`.safetensors` -- safetensors headers (dtypes and shapes, never tensor data)
* :mod:`.hf` -- Hugging Face checkpoints: ``config.json`` + ``quantization_config`` + headers
* :mod:`.gguf` -- llama.cpp GGUF files: metadata and tensor infos
* :mod:`.zigzag` / :mod:`.timeloop` -- accelerator descriptions -> ``mac_array`` arch specs

ONNX lives in :mod:`hwsim.workload.onnx_import`. ``hwsim.load_workload`` and ``hwsim.load_arch``
dispatch to these by path (a directory or ``.gguf`` / ``.safetensors`` file; a ZigZag or Timeloop
YAML)."""
