"""Workloads: operators, the Workload graph, precision policies and model builders."""

from .cnn import build_mobilenetv2, build_resnet, build_vit
from .graph import GraphBuilder, Precision, Workload
from .llm import LLMConfig, build_llm
from .ops import OP_TYPES, Attention, Conv2d, Elementwise, Embedding, Gemm, Norm, Op, Softmax
from .presets import list_workloads, load_workload

__all__ = ["Op", "Gemm", "Conv2d", "Attention", "Elementwise", "Norm", "Softmax", "Embedding",
           "OP_TYPES", "Workload", "Precision", "GraphBuilder", "LLMConfig", "build_llm",
           "build_resnet", "build_mobilenetv2", "build_vit", "load_workload", "list_workloads"]
