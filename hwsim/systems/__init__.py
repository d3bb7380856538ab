"""Multi-device systems: memory capacity, interconnects and collectives, tensor/pipeline
parallelism, generation (static batching) and request-level serving on simpy.

>>> import hwsim
>>> s = hwsim.load_system("dgx-h100")
>>> pm = ParallelModel("llama-2-70b", s, tp=8)
>>> pm.memory(1, 2048).fits
True
"""

from .generate import GenerationReport, generate
from .memory import Memory, device_memory_bytes, workload_memory
from .parallel import ParallelModel, llm_config, min_tp, shard_config
from .serve import Request, SchedulerConfig, ServeReport, poisson_requests, read_trace, serve, sweep
from .system import System, list_systems, load_system

__all__ = ["GenerationReport", "generate", "Request", "SchedulerConfig", "ServeReport",
           "poisson_requests", "read_trace", "serve", "sweep", "Memory", "device_memory_bytes", "workload_memory", "ParallelModel", "llm_config",
           "min_tp", "shard_config", "System", "list_systems", "load_system"]
