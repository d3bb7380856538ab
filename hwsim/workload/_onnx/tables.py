"""ONNX op types by how they are costed, and ONNX element types as hwsim formats."""

from __future__ import annotations

ZERO_COST = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Shape", "Size", "Constant",
             "ConstantOfShape", "Identity", "Dropout", "Range", "EyeLike", "QuantizeLinear",
             "DequantizeLinear", "DynamicQuantizeLinear"}
MEMORY = {"Transpose", "Concat", "Slice", "Split", "Pad", "Expand", "Tile", "Gather",
          "GatherElements", "GatherND", "ScatterND", "ScatterElements", "Resize", "Upsample",
          "DepthToSpace", "SpaceToDepth", "Trilu", "Cast", "CastLike", "OneHot", "NonZero"}
ELEMENTWISE = {"Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Reciprocal", "Exp", "Log", "Neg", "Abs",
               "Relu", "LeakyRelu", "PRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Erf",
               "Gelu", "Softplus", "Softsign", "Elu", "Selu", "Celu", "Mish", "Clip", "Min", "Max",
               "Mean", "Sum", "Where", "Equal", "Greater", "GreaterOrEqual", "Less",
               "LessOrEqual", "Not", "And", "Or", "Xor", "Floor", "Ceil", "Round", "Sign", "Mod",
               "Sin", "Cos", "IsNaN", "IsInf", "BitShift", "Shrink", "ThresholdedRelu",
               # com.microsoft fused activations / rotary embedding (same shape as input 0)
               "FastGelu", "BiasGelu", "QuickGelu", "BiasAdd", "RotaryEmbedding",
               "LRN"}  # local response norm: per element, a sum of squares over `size` channels
REDUCE = {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
          "ReduceL2", "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp", "ArgMax", "ArgMin",
          "CumSum", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool"}
NORMS = {"LayerNormalization": "layer", "SkipLayerNormalization": "layer",
         "SimplifiedLayerNormalization": "rms", "SkipSimplifiedLayerNormalization": "rms",
         "RMSNormalization": "rms", "BatchNormalization": "batch"}
GEMMS = {"MatMul", "Gemm", "MatMulInteger", "QLinearMatMul", "MatMulNBits"}
CONVS = {"Conv", "ConvInteger", "QLinearConv"}
ATTENTION = {"Attention", "MultiHeadAttention", "GroupQueryAttention"}
SOFTMAX = {"Softmax", "LogSoftmax"}
SUPPORTED = (ZERO_COST | MEMORY | ELEMENTWISE | REDUCE | set(NORMS) | GEMMS | CONVS | ATTENTION
             | SOFTMAX)
# FLOPs per output element where one op is more than one operation (the default is 1)
_FLOPS = {"Exp": 4, "Log": 4, "Erf": 4, "Tanh": 4, "Sigmoid": 4, "Gelu": 8, "FastGelu": 8,
          "BiasGelu": 8, "QuickGelu": 5, "Softplus": 5, "Mish": 8, "Sqrt": 2, "Pow": 2,
          "HardSwish": 3, "RotaryEmbedding": 3}

# TensorProto element types -> hwsim format names (quantized and float storage types).
# FNUZ fp8 variants have the same bit layout and MAC cost; only their range (max 240 / 57344)
# differs, which does not enter a cost.
_DTYPE_FORMAT = {2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 10: "fp16",
                 16: "bf16", 1: "fp32", 17: "fp8_e4m3", 18: "fp8_e4m3", 19: "fp8_e5m2",
                 20: "fp8_e5m2", 21: "uint4", 22: "int4", 23: "fp4_e2m1"}
_QUANT_DTYPES = {2, 3, 4, 5, 17, 18, 19, 20, 21, 22, 23}


def _glob_escape(name: str) -> str:
    """An op name as an fnmatch pattern matching only itself (Precision.overrides are globs)."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)
