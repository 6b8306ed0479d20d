"""CNN workloads: ResNet-50 as im2col GEMMs and element-wise passes."""

from __future__ import annotations

import dataclasses

from dse.units import BYTES_PER_ELEMENT
from dse.workloads.checks import _check_count, _check_dtype
from dse.workloads.ops import (
    ADD_RELU_FLOPS_PER_ELEMENT,
    AVGPOOL_FLOPS_PER_ELEMENT,
    BIAS_RELU_FLOPS_PER_ELEMENT,
    DEFAULT_DTYPE,
    MAXPOOL_FLOPS_PER_ELEMENT,
    Op,
    _eltwise,
    _gemm,
)
from dse.workloads.workload import Workload

# ResNet-50 stages (He et al. 2016, table 1): (stage, blocks, bottleneck width, stride).
_RESNET50_STAGES = ((2, 3, 64, 1), (3, 4, 128, 2), (4, 6, 256, 2), (5, 3, 512, 2))
_RESNET50_CLASSES = 1000


def _resnet50_ops(batch: int) -> tuple[Op, ...]:
    """ResNet-50 v1.5 at 224 x 224 as im2col GEMMs and element-wise passes.

    Every conv is a GEMM with ``m = batch * H_out * W_out``, ``n = C_out``,
    ``k = C_in * kh * kw``. BatchNorm is folded into the conv weights and a per-channel
    bias; each conv followed by ReLU gets a ``*_relu`` pass (bias add + ReLU), and each
    block ends with ``*_add_relu`` (bias add, residual add, ReLU; the projection
    shortcut's bias merges into the same add). The FC bias add is in the FC epilogue
    and not counted. Blocks 2..n of a stage are identical and listed once with
    ``count = n - 1`` (named e.g. ``conv3_2-4a``).
    """
    ops: list[Op] = []

    def conv(
        name: str, h_out: int, c_in: int, c_out: int, kernel: int, count: int = 1, h_in: int | None = None
    ) -> None:
        # implicit GEMM: A is the input feature map (batch x h_in^2 x c_in), not im2col's
        # m x k matrix, which cuDNN/TensorRT-style kernels build in on-chip tiles
        h_in = h_out if h_in is None else h_in
        op = _gemm(name, batch * h_out * h_out, c_out, c_in * kernel * kernel, count=count)
        ops.append(dataclasses.replace(op, a_read_elements=batch * h_in * h_in * c_in))

    def relu(name: str, h: int, c: int, count: int = 1) -> None:
        ops.append(_eltwise(name, batch * c * h * h, BIAS_RELU_FLOPS_PER_ELEMENT, count=count))

    def add_relu(name: str, h: int, c: int, count: int = 1) -> None:
        ops.append(
            _eltwise(name, batch * c * h * h, ADD_RELU_FLOPS_PER_ELEMENT, count=count, inputs=2)
        )

    conv("conv1", 112, 3, 64, 7, h_in=224)  # 7x7/2, 224 -> 112
    relu("conv1_relu", 112, 64)
    # 3x3/2 max-pool, 112 -> 56: reads the 4x larger input once (window overlap on chip).
    ops.append(_eltwise("maxpool", batch * 64 * 56 * 56, MAXPOOL_FLOPS_PER_ELEMENT, inputs=4))

    c_in, h_in = 64, 56
    for stage, blocks, width, stride in _RESNET50_STAGES:
        h = h_in // stride
        c_out = 4 * width
        first = f"conv{stage}_1"
        conv(f"{first}a", h_in, c_in, width, 1)
        relu(f"{first}a_relu", h_in, width)
        conv(f"{first}b", h, width, width, 3, h_in=h_in)  # v1.5: the stride is on the 3x3 conv
        relu(f"{first}b_relu", h, width)
        conv(f"{first}c", h, width, c_out, 1)
        conv(f"{first}proj", h, c_in, c_out, 1, h_in=h_in)  # 1x1/stride projection shortcut
        add_relu(f"{first}_add_relu", h, c_out)
        rest, n = f"conv{stage}_2-{blocks}", blocks - 1
        conv(f"{rest}a", h, c_out, width, 1, n)
        relu(f"{rest}a_relu", h, width, n)
        conv(f"{rest}b", h, width, width, 3, n)
        relu(f"{rest}b_relu", h, width, n)
        conv(f"{rest}c", h, width, c_out, 1, n)
        add_relu(f"{rest}_add_relu", h, c_out, n)
        c_in, h_in = c_out, h

    # Global 7x7 average pool: reads 49 x its output.
    ops.append(_eltwise("avgpool", batch * c_in, AVGPOOL_FLOPS_PER_ELEMENT, inputs=49))
    ops.append(_gemm("fc", batch, _RESNET50_CLASSES, c_in))
    return tuple(ops)


def _resnet50_bias_params() -> int:
    """Per-channel biases left by folding BatchNorm into the convs, plus the FC bias."""
    channels = 64  # stem
    for _, blocks, width, _ in _RESNET50_STAGES:
        channels += blocks * (width + width + 4 * width) + 4 * width  # + projection
    return channels + _RESNET50_CLASSES


def resnet50_workload(batch: int, dtype: str = DEFAULT_DTYPE) -> Workload:
    """ResNet-50 v1.5 (torchvision layout) inference on ``batch`` 224 x 224 images.

    ``weight_bytes`` counts conv and FC weights plus the FC bias and the per-channel
    biases of the folded BatchNorms (25,530,472 parameters: torchvision's 25,557,032
    minus the 26,560 BN scales that folding absorbs into the conv weights).

    References
    ----------
    He, Zhang, Ren, Sun, "Deep Residual Learning for Image Recognition", CVPR 2016.
    torchvision.models.resnet50 (ResNet50_Weights.IMAGENET1K_V1: 25,557,032 params,
    4.09 GFLOPS counted as multiply-adds),
    https://pytorch.org/vision/stable/models/generated/torchvision.models.resnet50.html
    """
    batch = _check_count("batch", batch)
    dtype = _check_dtype(dtype)
    nbytes = BYTES_PER_ELEMENT[dtype]
    ops = _resnet50_ops(batch)
    weights = sum(op.b_elements * op.count for op in ops if op.is_gemm)
    return Workload(
        spec=f"resnet50:batch={batch}:dtype={dtype}",
        kind="cnn",
        model="resnet50",
        dtype=dtype,
        bytes_per_element=nbytes,
        batch=batch,
        seq_len=0,
        items_per_step=float(batch),
        item_unit="image",
        weight_bytes=float((weights + _resnet50_bias_params()) * nbytes),
        kv_cache_bytes=0.0,
        ops=ops,
    )
