"""Multi-device systems: memory capacity, interconnects and collectives, tensor/pipeline
parallelism, generation (static batching) and request-level serving on simpy.

>>> import hwsim
>>> s = hwsim.load_system("dgx-h100")
>>> pm = ParallelModel("llama-2-70b", s, tp=8)
>>> pm.memory(1, 2048).fits
True
"""

from .memory import Memory, device_memory_bytes, workload_memory
from .parallel import ParallelModel, llm_config, min_tp, shard_config
from .system import System, list_systems, load_system

__all__ = ["Memory", "device_memory_bytes", "workload_memory", "ParallelModel", "llm_config",
           "min_tp", "shard_config", "System", "list_systems", "load_system"]
