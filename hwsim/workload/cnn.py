"""Vision models as torchvision defines them: ResNet-18/34/50/101/152 (v1.5, stride in the 3×3),
MobileNetV2 (width 1.0) and ViT-B/16 style ViTs. Parameter counts include BatchNorm/LayerNorm
scales and biases, as ``sum(p.numel() for p in model.parameters())`` does."""

from __future__ import annotations

from ..errors import ConfigError, check_positive_int
from .graph import GraphBuilder, Precision, Workload
from .ops import Attention, Conv2d, Elementwise, Embedding, Gemm, Norm


class _CNN:
    """Tracks the feature-map shape while appending conv / norm / pool ops."""

    def __init__(self, batch: int, channels: int, size: int):
        self.b = GraphBuilder()
        self.batch, self.c, self.h, self.w = batch, channels, size, size

    def conv(self, name, out_c, k, stride=1, groups=1, bias=False, deps=None, bn=True, act="relu",
             **tags):
        pad = k // 2
        tags.setdefault("group", name.split(".")[0])  # the stage: conv1, layer1 ... features.7
        op = Conv2d(name=name, batch=self.batch, in_channels=self.c, out_channels=out_c,
                    in_h=self.h, in_w=self.w, kernel_h=k, kernel_w=k, stride=stride, padding=pad,
                    groups=groups, bias=bias, **tags)
        self.b.add(op, deps)
        self.c, self.h, self.w = out_c, op.out_h, op.out_w
        if bn:
            self.b.add(Norm(name=name + ".bn", group="bn", rows=self.batch * self.h * self.w,
                            cols=out_c, kind="batch", affine_bias=True))
        if act:
            self.elementwise(name + "." + act, act)
        return self.b.last

    def elementwise(self, name, fn, inputs=1, deps=None):
        return self.b.add(Elementwise(name=name, group=fn, fn=fn, inputs=inputs, flops_per_elem=1,
                                      numel=self.batch * self.c * self.h * self.w), deps)

    def pool(self, name, k, stride):
        pad = k // 2 if k > 1 else 0
        self.h = (self.h + 2 * pad - k) // stride + 1
        self.w = (self.w + 2 * pad - k) // stride + 1
        self.b.add(Elementwise(name=name, group="pool", fn="pool", flops_per_elem=k * k,
                               numel=self.batch * self.c * self.h * self.w))

    def classifier(self, classes):
        self.b.add(Elementwise(name="avgpool", group="pool", fn="avgpool", inputs=self.h * self.w,
                               flops_per_elem=1, numel=self.batch * self.c))
        self.b.add(Gemm(name="fc", group="fc", M=self.batch, N=classes, K=self.c, bias=True))


_RESNET = {18: ("basic", [2, 2, 2, 2]), 34: ("basic", [3, 4, 6, 3]),
           50: ("bottleneck", [3, 4, 6, 3]), 101: ("bottleneck", [3, 4, 23, 3]),
           152: ("bottleneck", [3, 8, 36, 3])}


def build_resnet(depth: int = 50, batch: int = 1, image_size: int = 224, num_classes: int = 1000,
                 precision: Precision | None = None) -> Workload:
    if depth not in _RESNET:
        raise ConfigError(f"resnet depth = {depth!r}: expected one of {sorted(_RESNET)}")
    kind, blocks = _RESNET[depth]
    n = _CNN(check_positive_int("workload", "batch", batch), 3,
             check_positive_int("workload", "image_size", image_size))
    n.conv("conv1", 64, 7, stride=2)
    n.pool("maxpool", 3, 2)
    expansion = 4 if kind == "bottleneck" else 1
    for s, (width, count) in enumerate(zip([64, 128, 256, 512], blocks)):
        for i in range(count):
            p = f"layer{s + 1}.{i}"
            stride = 2 if (i == 0 and s > 0) else 1
            entry, in_c, in_hw = n.b.last, n.c, (n.h, n.w)
            if kind == "basic":
                n.conv(p + ".conv1", width, 3, stride)
                n.conv(p + ".conv2", width, 3, act=None)
            else:
                n.conv(p + ".conv1", width, 1)
                n.conv(p + ".conv2", width, 3, stride)
                n.conv(p + ".conv3", width * expansion, 1, act=None)
            main, out = n.b.last, (n.c, n.h, n.w)
            skip = entry
            if stride != 1 or in_c != width * expansion:
                n.c, (n.h, n.w) = in_c, in_hw
                skip = n.conv(p + ".downsample", width * expansion, 1, stride, deps=[entry], act=None)
            n.c, n.h, n.w = out
            n.elementwise(p + ".add", "add", inputs=2, deps=[main, skip])
            n.elementwise(p + ".relu", "relu")
    n.classifier(num_classes)
    meta = dict(model=f"resnet{depth}", kind="cnn", batch=batch, image_size=image_size)
    return n.b.build(f"resnet{depth}", meta, precision or Precision())


# (expansion t, channels c, repeats n, stride s) — Sandler et al. 2018, Table 2
_MBV2 = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
         (6, 320, 1, 1)]


def build_mobilenetv2(batch: int = 1, image_size: int = 224, num_classes: int = 1000,
                      precision: Precision | None = None) -> Workload:
    n = _CNN(check_positive_int("workload", "batch", batch), 3,
             check_positive_int("workload", "image_size", image_size))
    # layer = the index of the features block, so explorations can pick a format per block
    n.conv("features.0", 32, 3, stride=2, act="relu6", layer=0)
    idx = 1
    for t, c, reps, s in _MBV2:
        for i in range(reps):
            p, L = f"features.{idx}", dict(layer=idx)
            entry, in_c = n.b.last, n.c
            stride = s if i == 0 else 1
            if t != 1:
                n.conv(p + ".expand", in_c * t, 1, act="relu6", **L)
            n.conv(p + ".dw", n.c, 3, stride, groups=n.c, act="relu6", **L)
            n.conv(p + ".project", c, 1, act=None, **L)
            if stride == 1 and in_c == c:
                n.elementwise(p + ".add", "add", inputs=2, deps=[n.b.last, entry])
            idx += 1
    n.conv(f"features.{idx}", 1280, 1, act="relu6", layer=idx)
    n.classifier(num_classes)
    meta = dict(model="mobilenetv2", kind="cnn", batch=batch, image_size=image_size)
    return n.b.build("mobilenetv2", meta, precision or Precision())


def build_vit(batch: int = 1, image_size: int = 224, patch: int = 16, hidden: int = 768,
              layers: int = 12, heads: int = 12, mlp: int = 3072, num_classes: int = 1000,
              name: str = "vit-b16", precision: Precision | None = None) -> Workload:
    batch = check_positive_int("workload", "batch", batch)
    image_size = check_positive_int("workload", "image_size", image_size)
    patch, hidden, layers, heads, mlp, num_classes = (
        check_positive_int("vit", k, v) for k, v in (
            ("patch", patch), ("hidden", hidden), ("layers", layers), ("heads", heads),
            ("mlp", mlp), ("num_classes", num_classes)))
    if image_size % patch:
        raise ConfigError(f"vit: image_size={image_size} must be a multiple of patch={patch}")
    if hidden % heads:
        raise ConfigError(f"vit: heads={heads} must divide hidden={hidden}")
    seq = (image_size // patch) ** 2 + 1
    T = batch * seq
    b = GraphBuilder()
    b.add(Conv2d(name="patch_embed", group="patch_embed", batch=batch, in_channels=3,
                 out_channels=hidden, in_h=image_size, in_w=image_size, kernel_h=patch,
                 kernel_w=patch, stride=patch, bias=True))
    b.add(Embedding(name="cls_token", group="embed", vocab=1, dim=hidden, tokens=batch))
    b.add(Embedding(name="pos_embed", group="embed", vocab=seq, dim=hidden, tokens=T))
    resid = b.last
    for i in range(layers):
        p, L = f"encoder.{i}.", dict(layer=i)
        b.add(Norm(name=p + "ln1", group="attn.norm", rows=T, cols=hidden, kind="layer",
                   affine_bias=True, **L))
        b.add(Gemm(name=p + "attn.qkv", group="attn.qkv", M=T, N=3 * hidden, K=hidden, bias=True, **L))
        b.add(Attention(name=p + "attn.sdpa", group="attn.sdpa", batch=batch, heads=heads,
                        q_len=seq, kv_len=seq, head_dim=hidden // heads, causal=False, **L))
        b.add(Gemm(name=p + "attn.o", group="attn.o", M=T, N=hidden, K=hidden, bias=True, **L))
        resid = b.add(Elementwise(name=p + "attn.residual", group="residual", fn="add", inputs=2,
                                  numel=T * hidden, **L), deps=[b.last, resid])
        b.add(Norm(name=p + "ln2", group="mlp.norm", rows=T, cols=hidden, kind="layer",
                   affine_bias=True, **L))
        b.add(Gemm(name=p + "mlp.up", group="mlp.up", M=T, N=mlp, K=hidden, bias=True, **L))
        b.add(Elementwise(name=p + "mlp.gelu", group="mlp.act", fn="gelu", numel=T * mlp,
                          flops_per_elem=8, **L))
        b.add(Gemm(name=p + "mlp.down", group="mlp.down", M=T, N=hidden, K=mlp, bias=True, **L))
        resid = b.add(Elementwise(name=p + "mlp.residual", group="residual", fn="add", inputs=2,
                                  numel=T * hidden, **L), deps=[b.last, resid])
    b.add(Norm(name="final_norm", group="final_norm", rows=T, cols=hidden, kind="layer",
               affine_bias=True))
    b.add(Gemm(name="head", group="fc", M=batch, N=num_classes, K=hidden, bias=True))
    meta = dict(model=name, kind="vit", batch=batch, image_size=image_size, tokens=T)
    return b.build(name, meta, precision or Precision())
