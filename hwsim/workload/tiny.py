"""MLPerf Tiny reference CNNs (Banbury et al., arXiv 2106.07597): ResNet-8 (image classification,
CIFAR-10) and DS-CNN (keyword spotting, Speech Commands), as the MLCommons ``tiny`` training
references define them in Keras.

Parameter counts follow hwsim's convention (``sum(p.numel() for p in model.parameters())``:
conv/dense weights and biases, BatchNorm scale and shift; BatchNorm running statistics are buffers,
not parameters).

TensorFlow ``padding="same"`` with an even or non-square kernel pads asymmetrically, which
:class:`~hwsim.workload.ops.Conv2d` (one symmetric ``padding``) cannot express; the DS-CNN's first
layer is therefore given its input already zero-padded to the size TF pads it to (same MACs and
output shape as TF; the input operand counts the padded zeros).
"""

from __future__ import annotations

from ..errors import check_positive_int
from .cnn import _CNN
from .graph import Precision, Workload
from .ops import Conv2d, Elementwise, Gemm, Norm


def build_resnet8(batch: int = 1, image_size: int = 32, num_classes: int = 10,
                  precision: Precision | None = None) -> Workload:
    """MLPerf Tiny ResNet-8 (``resnet_v1_eembc``): a 3x3 conv to 16 channels, three residual stacks
    of two 3x3 convs (16, 32, 64 channels; stride 2 entering stacks 2 and 3, whose shortcut is a
    strided 1x1 conv without BatchNorm), global average pooling and a 10-way dense layer.

    >>> round(build_resnet8().macs / 1e6, 2)
    12.5
    """
    n = _CNN(check_positive_int("workload", "batch", batch), 3,
             check_positive_int("workload", "image_size", image_size))
    n.conv("conv1", 16, 3, bias=True)
    for s, width in enumerate((16, 32, 64)):
        p = f"stack{s + 1}"
        stride = 1 if s == 0 else 2
        entry, in_c, in_hw = n.b.last, n.c, (n.h, n.w)
        n.conv(p + ".conv1", width, 3, stride, bias=True)
        n.conv(p + ".conv2", width, 3, bias=True, act=None)
        main, out = n.b.last, (n.c, n.h, n.w)
        skip = entry
        if s > 0:
            n.c, (n.h, n.w) = in_c, in_hw
            skip = n.conv(p + ".shortcut", width, 1, stride, bias=True, deps=[entry], bn=False,
                          act=None)
        n.c, n.h, n.w = out
        n.elementwise(p + ".add", "add", inputs=2, deps=[main, skip])
        n.elementwise(p + ".relu", "relu")
    n.classifier(num_classes)
    meta = dict(model="resnet8", kind="cnn", batch=batch, image_size=image_size)
    return n.b.build("resnet8", meta, precision or Precision())


def build_dscnn(batch: int = 1, filters: int = 64, blocks: int = 4, num_classes: int = 12,
                precision: Precision | None = None) -> Workload:
    """MLPerf Tiny DS-CNN on 49 x 10 MFCC frames: a 10x4 stride-2 conv (TF "same"), ``blocks``
    depthwise-separable blocks (3x3 depthwise + 1x1 pointwise, each with BatchNorm and ReLU),
    global average pooling and a dense layer.

    >>> build_dscnn().num_params
    23756
    """
    batch = check_positive_int("workload", "batch", batch)
    n = _CNN(batch, 1, 1)
    # TF "same", stride 2: out = ceil(49/2) x ceil(10/2) = 25 x 5; total padding 9 rows, 2 cols
    n.b.add(Conv2d(name="conv1", group="conv1", batch=batch, in_channels=1, out_channels=filters,
                   in_h=49 + 9, in_w=10 + 2, kernel_h=10, kernel_w=4, stride=2, bias=True))
    n.c, n.h, n.w = filters, 25, 5
    n.b.add(Norm(name="conv1.bn", group="bn", rows=batch * 25 * 5, cols=filters, kind="batch",
                 affine_bias=True))
    n.elementwise("conv1.relu", "relu")
    for i in range(check_positive_int("workload", "blocks", blocks)):
        p = f"block{i + 1}"
        n.conv(p + ".dw", filters, 3, groups=filters, bias=True, group=p)
        n.conv(p + ".pw", filters, 1, bias=True, group=p)
    n.b.add(Elementwise(name="avgpool", group="pool", fn="avgpool", inputs=n.h * n.w,
                        flops_per_elem=1, numel=batch * n.c))
    n.b.add(Gemm(name="fc", group="fc", M=batch, N=num_classes, K=n.c, bias=True))
    meta = dict(model="ds-cnn", kind="cnn", batch=batch)
    return n.b.build("ds-cnn", meta, precision or Precision())
