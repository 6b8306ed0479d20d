"""A single GEMM as a workload."""

from __future__ import annotations

from dse.units import BYTES_PER_ELEMENT
from dse.workloads.checks import _check_count, _check_dtype
from dse.workloads.ops import DEFAULT_DTYPE, _gemm
from dse.workloads.workload import Workload


def gemm_workload(m: int, n: int, k: int, dtype: str = DEFAULT_DTYPE) -> Workload:
    """A single GEMM ``C[M, N] = A[M, K] @ B[K, N]``, B read like a weight matrix.

    ``weight_bytes`` is the size of B; one step is one GEMM.
    """
    m, n, k = (_check_count(f"gemm {d}", v) for d, v in zip("MNK", (m, n, k), strict=True))
    dtype = _check_dtype(dtype)
    nbytes = BYTES_PER_ELEMENT[dtype]
    return Workload(
        spec=f"gemm:{m},{n},{k}:dtype={dtype}",
        kind="gemm",
        model=None,
        dtype=dtype,
        bytes_per_element=nbytes,
        batch=1,
        seq_len=0,
        items_per_step=1.0,
        item_unit="gemm",
        weight_bytes=float(k * n * nbytes),
        kv_cache_bytes=0.0,
        ops=(_gemm("gemm", m, n, k),),
    )
