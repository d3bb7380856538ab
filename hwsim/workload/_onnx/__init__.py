"""Internals of :mod:`hwsim.workload.onnx_import` (the public entry point): op tables, the graph
walk, the decomposed-norm matcher and the per-op converters."""
