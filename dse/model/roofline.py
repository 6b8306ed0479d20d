"""Per-op roofline with an SRAM-aware memory hierarchy.

Arrays broadcast as (designs, 1) against (1, ops). For every op:

* compute time from tile and wave quantisation: each core's MAC array is taken as a
  square r x r output-stationary block (r = sqrt(macs_per_core)); an op of
  ``ceil(m/r) ceil(n/r) batch`` blocks runs in ``ceil(blocks / cores)`` waves of
  ``k + f r`` cycles each (``f r``: filling and draining the array, the skew of a
  systolic wavefront, plus prologue/epilogue), issued at a steady-state efficiency
  ``eta`` (pipeline bubbles, operand-bank conflicts: large GEMMs at a fixed clock
  reach ~95 % of peak on A100, see ``model_constants.csv``);
* off-chip (DRAM) traffic that depends on SRAM capacity through tiling reuse: with a
  tile budget S bytes the square tile side is t = sqrt(S / 2b); A is re-read
  ceil(n / t_n) times and B ceil(m / t_m) times (approaching the Hong-Kung bound
  ~2MNK/sqrt(S)); an operand that is resident on chip (activations that fit, weights in
  weights-resident mode, the KV cache when it fits too) costs no DRAM traffic;
* SRAM traffic of feeding the arrays (2 r k b bytes per block) against the SRAM
  bandwidth.

Op time = max(compute, SRAM, DRAM) + fixed per-op overhead; compute and SRAM time scale
with 1/clock, DRAM time does not.

References
----------
S. Williams, A. Waterman, D. Patterson, "Roofline: an insightful visual performance model
for multicore architectures", CACM 52(4), 2009.
J.-W. Hong and H. T. Kung, "I/O complexity: the red-blue pebble game", STOC 1981.
H. T. Kung, "Why systolic architectures?", IEEE Computer 15(1), 1982 (array fill/drain).
H. He, "Strangely, matrix multiplications on GPUs run faster when given 'predictable'
data!", thonking.ai, 2024 (A100 cuBLAS 8192^3: 295 of 312 TFLOPS unthrottled, 258 at
the power cap; the issue efficiency and the power fit of ``scripts/calibrate.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

try:  # the compiled kernel is optional: op_times has a vectorised fallback
    from numba import njit
except ImportError:  # pragma: no cover - exercised only without numba
    njit = None


@dataclass(frozen=True)
class OpTimes:
    """Per design x op quantities at the max clock (arrays of shape (designs, ops)).

    Attributes
    ----------
    compute_s : ndarray
        MAC-array (or vector-unit) time at the max clock [s].
    sram_s : ndarray
        SRAM-bandwidth time at the max clock [s].
    dram_s : ndarray
        Off-chip time, clock independent [s].
    dram_bytes : ndarray
        Off-chip traffic [B].
    sram_bytes : ndarray
        SRAM traffic [B].
    """

    compute_s: np.ndarray  # MAC-array (or vector-unit) time at the max clock
    sram_s: np.ndarray  # SRAM-bandwidth time at the max clock
    dram_s: np.ndarray  # off-chip time (clock independent)
    dram_bytes: np.ndarray
    sram_bytes: np.ndarray


def tiled_reads(m, n, tile_bytes, bytes_per_element):
    """How often A and B of a GEMM are read when tiled with a budget of ``tile_bytes`` [-].

    Parameters
    ----------
    m, n : numeric
        Rows of A (and C) and columns of B (and C) [elements].
    tile_bytes : numeric
        On-chip SRAM budget for the tiles, S [B].
    bytes_per_element : float
        Operand width, b [B].

    Returns
    -------
    a_reads, b_reads : ndarray
        Times A and B are read from DRAM [-]: A once per column tile, B once per row tile.

    Notes
    -----
    Square tiles of side t = max(1, sqrt(S / 2b)), clipped to the matrix:
    a_reads = ceil(n / min(n, t)), b_reads = ceil(m / min(m, t)); the traffic approaches
    the Hong-Kung bound ~2MNK / sqrt(S).

    References
    ----------
    J.-W. Hong and H. T. Kung, "I/O complexity: the red-blue pebble game", STOC 1981.
    """
    t = np.sqrt(np.maximum(tile_bytes, 0.0) / (2.0 * bytes_per_element))
    t = np.maximum(t, 1.0)
    a_reads = np.ceil(n / np.minimum(n, t))
    b_reads = np.ceil(m / np.minimum(m, t))
    return a_reads, b_reads


def op_times(
    ops: dict[str, np.ndarray],
    *,
    bytes_per_element: float,
    cores,
    array_side,
    clock_hz,
    rate,
    vector_flops_per_s,
    tile_bytes,
    dram_bw_bytes_per_s,
    sram_bw_bytes_per_s,
    weights_resident,
    kv_resident,
    inputs_from_memory: bool,
    a_fused=None,
    c_fused=None,
    fill_cycles_per_side=0.0,
    issue_efficiency=1.0,
    kv_read_efficiency=1.0,
) -> OpTimes:
    """Compute, SRAM and DRAM time of every op for every design (at the max clock).

    Design arguments are arrays of shape (designs, 1); ``ops`` holds arrays of shape
    (ops,). GEMMs and element-wise ops are computed on their own columns.

    Parameters
    ----------
    ops : dict of str to ndarray
        The ops of a workload (:meth:`dse.workloads.Workload.op_arrays`): shapes ``m n k
        batch`` [elements], ``flop_fraction`` [-], ``a_bytes b_bytes c_bytes`` [B],
        ``eltwise_flops`` [FLOP], ``is_gemm b_is_weight b_is_kv`` (bool).
    bytes_per_element : float
        Operand width of the workload precision, b [B].
    cores : numeric
        Cores [-].
    array_side : numeric
        Side r of each core's square MAC array, sqrt(macs_per_core) [-].
    clock_hz : numeric
        Maximum clock [Hz].
    rate : numeric
        MAC-rate multiplier of the workload precision over ``mac_dtype`` [-] (2 for
        fp8/int8 on a bf16 array).
    vector_flops_per_s : numeric
        Element-wise throughput of the vector units at the max clock [FLOP/s].
    tile_bytes : numeric
        SRAM budget for tiles and resident activations, S [B].
    dram_bw_bytes_per_s : numeric
        Sustained off-chip bandwidth [B/s].
    sram_bw_bytes_per_s : numeric
        SRAM bandwidth at the max clock [B/s].
    weights_resident, kv_resident : bool or ndarray of bool
        The weights, and the KV cache, are held on chip (no DRAM traffic).
    inputs_from_memory : bool
        Every activation comes from and goes to DRAM unless fused (no on-chip residency
        of activations that would fit).
    a_fused, c_fused : ndarray of bool, optional
        Per op, operands that a fused kernel keeps on chip whatever their size (the
        attention score and probability tensors under FlashAttention-style tiling).
    fill_cycles_per_side : float
        Per-wave array fill and drain, f, in units of the array side [cycles].
    issue_efficiency : float
        Steady-state MAC issue efficiency, eta [-].
    kv_read_efficiency : float
        Fraction of the sustained DRAM bandwidth that reads of the KV cache reach (paged
        attention reads it in small blocks) [-]: those bytes take
        ``1 / kv_read_efficiency`` times as long.

    Returns
    -------
    OpTimes
        Compute, SRAM and DRAM time [s] and traffic [B] of shape (designs, ops).

    Notes
    -----
    A GEMM's time on the MAC arrays, with tile and wave quantisation:
    t = ceil(ceil(m/r) ceil(n/r) batch / cores) (k phi + f r) / (f_clk rate eta), with r
    the array side, phi the flop fraction, f the fill/drain cycles per array side, rate
    the MAC-rate multiplier of the workload precision over ``mac_dtype`` (2 for fp8/int8
    on a bf16 array) and eta the issue efficiency. DRAM bytes follow :func:`tiled_reads`
    unless the whole op fits the tile budget or an operand is resident; op time is
    max(compute, SRAM, DRAM) (:func:`step_time_s`).

    References
    ----------
    S. Williams, A. Waterman and D. Patterson, "Roofline", CACM 52(4), 2009; H. T. Kung,
    "Why systolic architectures?", IEEE Computer 15(1), 1982 (array fill and drain);
    issue efficiency from H. He, thonking.ai, 2024 (A100 cuBLAS 8192^3, see
    ``mac_issue_efficiency`` in ``dse/data/model_constants.csv``).
    """
    n_ops = len(ops["m"])
    shape = (np.shape(cores)[0], n_ops)
    no_fuse = np.zeros(n_ops, dtype=bool)
    a_fused = no_fuse if a_fused is None else a_fused
    c_fused = no_fuse if c_fused is None else c_fused
    b = bytes_per_element
    if njit is not None:  # the same expressions, compiled, one design at a time
        design = [
            np.ascontiguousarray(np.broadcast_to(x, (shape[0], 1))[:, 0], dtype=dtype)
            for x, dtype in (
                (cores, float), (array_side, float), (clock_hz, float), (rate, float),
                (vector_flops_per_s, float), (tile_bytes, float), (dram_bw_bytes_per_s, float),
                (sram_bw_bytes_per_s, float), (weights_resident, bool), (kv_resident, bool),
            )
        ]  # fmt: skip
        per_op = [np.ascontiguousarray(ops[key], dtype=float) for key in _OP_FLOATS] + [
            np.ascontiguousarray(x, dtype=bool)
            for x in (ops["is_gemm"], ops["b_is_weight"], ops["b_is_kv"], a_fused, c_fused)
        ]
        out = _op_times_kernel(
            *design, *per_op, float(b), bool(inputs_from_memory),
            float(fill_cycles_per_side), float(issue_efficiency), float(kv_read_efficiency),
        )  # fmt: skip
        return OpTimes(*out)
    compute_s = np.empty(shape)
    dram_bytes = np.empty(shape)
    kv_extra = None  # KV-cache bytes as extra time (paged reads are slower), where any
    sram_bytes = np.empty(shape)
    gi = np.flatnonzero(ops["is_gemm"])
    ei = np.flatnonzero(~ops["is_gemm"])

    def on_chip(nbytes, fused):
        # an activation stays on chip when it fits the tile budget (or a fused kernel keeps it)
        if inputs_from_memory:
            return np.broadcast_to(fused, (shape[0], len(nbytes)))
        return (nbytes <= tile_bytes) | fused

    if gi.size:
        m, n = ops["m"][gi], ops["n"][gi]
        batch, kff = ops["batch"][gi], ops["k"][gi] * ops["flop_fraction"][gi]
        a_b, b_b, c_b = ops["a_bytes"][gi], ops["b_bytes"][gi], ops["c_bytes"][gi]
        # tile and wave quantisation
        # (divisions, not reciprocal products: ceil() must see exact multiples exactly)
        blocks = np.ceil(m / array_side) * np.ceil(n / array_side) * batch
        cycles = kff + fill_cycles_per_side * array_side
        compute_s[:, gi] = np.ceil(blocks / cores) * cycles * (1.0 / (clock_hz * rate * issue_efficiency))
        # SRAM feeding the arrays: each r x r block streams r x k of A and k x r of B
        sram_bytes[:, gi] = blocks * (2.0 * b * array_side) * kff + c_b
        # DRAM traffic with tiling reuse and on-chip residency
        fits = (a_b + b_b + c_b) / batch <= tile_bytes
        a_reads, b_reads = tiled_reads(m, n, tile_bytes, b)
        b_is_act = ~ops["b_is_weight"][gi] & ~ops["b_is_kv"][gi]
        b_resident = (
            (ops["b_is_weight"][gi] & weights_resident)
            | (ops["b_is_kv"][gi] & kv_resident)
            | (b_is_act & on_chip(b_b, no_fuse[gi]))
        )
        b_dram = np.where(b_resident, 0.0, b_b * np.where(fits, 1.0, b_reads))
        dram_bytes[:, gi] = (
            np.where(on_chip(a_b, a_fused[gi]), 0.0, a_b * np.where(fits, 1.0, a_reads))
            + b_dram
            + np.where(on_chip(c_b, c_fused[gi]), 0.0, c_b)
        )
        if kv_read_efficiency != 1.0 and ops["b_is_kv"][gi].any():
            kv_extra = np.zeros(shape)
            kv_extra[:, gi] = np.where(ops["b_is_kv"][gi], b_dram, 0.0) * (1.0 / kv_read_efficiency - 1.0)
    if ei.size:
        a_b, c_b = ops["a_bytes"][ei], ops["c_bytes"][ei]
        compute_s[:, ei] = ops["eltwise_flops"][ei] / vector_flops_per_s
        sram_bytes[:, ei] = np.broadcast_to(a_b + c_b, (shape[0], ei.size))
        dram_bytes[:, ei] = np.where(on_chip(a_b, a_fused[ei]), 0.0, a_b) + np.where(on_chip(c_b, c_fused[ei]), 0.0, c_b)

    dram_time_bytes = dram_bytes if kv_extra is None else dram_bytes + kv_extra
    return OpTimes(
        compute_s=compute_s,
        sram_s=sram_bytes * (1.0 / sram_bw_bytes_per_s),
        dram_s=dram_time_bytes * (1.0 / dram_bw_bytes_per_s),
        dram_bytes=dram_bytes,
        sram_bytes=sram_bytes,
    )


_OP_FLOATS = ("m", "n", "k", "batch", "flop_fraction", "a_bytes", "b_bytes", "c_bytes", "eltwise_flops")

if njit is not None:

    @njit(cache=True, nogil=True, inline="always")
    def _fmax(x, y):
        return x if x >= y or x != x else y  # np.maximum: NaN propagates

    @njit(cache=True, nogil=True, inline="always")
    def _fmin(x, y):
        return x if x <= y or x != x else y  # np.minimum: NaN propagates

    @njit(cache=True, nogil=True, error_model="numpy")  # x / 0 gives inf, as numpy does
    def _op_times_kernel(
        cores, side, clock_hz, rate, vector_flops_per_s, tile_bytes, dram_bw, sram_bw,
        weights_resident, kv_resident, m, n, k, batch, flop_fraction, a_b, b_b, c_b,
        eltwise_flops, is_gemm, b_is_weight, b_is_kv, a_fused, c_fused, b, inputs_from_memory,
        fill_cycles_per_side, issue_efficiency, kv_read_efficiency,
    ):  # fmt: skip
        """:func:`op_times` one design at a time.

        The vectorised expressions in the same order (bit-identical results), without the
        (designs, ops) temporaries.
        """
        n_designs, n_ops = cores.size, m.size
        compute_s = np.empty((n_designs, n_ops))
        sram_s = np.empty((n_designs, n_ops))
        dram_s = np.empty((n_designs, n_ops))
        dram_bytes = np.empty((n_designs, n_ops))
        sram_bytes = np.empty((n_designs, n_ops))
        kff = k * flop_fraction
        fits_ops = (a_b + b_b + c_b) / batch
        kv_extra = 1.0 / kv_read_efficiency - 1.0
        for i in range(n_designs):
            r, tile = side[i], tile_bytes[i]
            fill = fill_cycles_per_side * r
            inv_rate = 1.0 / (clock_hz[i] * rate[i] * issue_efficiency)
            feed = 2.0 * b * r
            t = _fmax(np.sqrt(_fmax(tile, 0.0) / (2.0 * b)), 1.0)
            inv_sram, inv_dram = 1.0 / sram_bw[i], 1.0 / dram_bw[i]
            for j in range(n_ops):
                # an activation stays on chip when it fits the tile budget (or is fused)
                a_on = a_fused[j] or (not inputs_from_memory and a_b[j] <= tile)
                c_on = c_fused[j] or (not inputs_from_memory and c_b[j] <= tile)
                if is_gemm[j]:
                    blocks = np.ceil(m[j] / r) * np.ceil(n[j] / r) * batch[j]
                    cycles = kff[j] + fill
                    compute = np.ceil(blocks / cores[i]) * cycles * inv_rate
                    sram = blocks * feed * kff[j] + c_b[j]
                    fits = fits_ops[j] <= tile
                    a_reads = 1.0 if fits else np.ceil(n[j] / _fmin(n[j], t))
                    b_reads = 1.0 if fits else np.ceil(m[j] / _fmin(m[j], t))
                    b_act = not b_is_weight[j] and not b_is_kv[j]
                    b_resident = (
                        (b_is_weight[j] and weights_resident[i])
                        or (b_is_kv[j] and kv_resident[i])
                        or (b_act and not inputs_from_memory and b_b[j] <= tile)
                    )
                    b_dram = 0.0 if b_resident else b_b[j] * b_reads
                    dram = (
                        (0.0 if a_on else a_b[j] * a_reads)
                        + b_dram
                        + (0.0 if c_on else c_b[j])
                    )
                    dram_t = dram + b_dram * kv_extra if b_is_kv[j] and kv_extra != 0.0 else dram
                else:
                    compute = eltwise_flops[j] / vector_flops_per_s[i]
                    sram = a_b[j] + c_b[j]
                    dram = (0.0 if a_on else a_b[j]) + (0.0 if c_on else c_b[j])
                    dram_t = dram
                compute_s[i, j] = compute
                sram_bytes[i, j] = sram
                dram_bytes[i, j] = dram
                sram_s[i, j] = sram * inv_sram
                dram_s[i, j] = dram_t * inv_dram
        return compute_s, sram_s, dram_s, dram_bytes, sram_bytes


def step_time_s(clock_scaled_s, dram_s, counts, overhead_s, clock_fraction, extra_s=0.0):
    """Time of one workload step at a clock fraction [s].

    Parameters
    ----------
    clock_scaled_s : ndarray (designs, ops)
        Per-op time at the max clock that scales with 1/f, max(compute, SRAM) [s].
    dram_s : ndarray (designs, ops)
        Per-op off-chip time, clock independent [s].
    counts : ndarray (ops,)
        Occurrences of each op per step [-].
    overhead_s : numeric
        Fixed cost per op (kernel launch, prologue and epilogue; ``op_overhead_s`` or
        ``op_overhead_static_s``) [s].
    clock_fraction : numeric
        Clock over the max clock, s [-].
    extra_s : numeric
        Clock-independent time outside the ops [s].

    Returns
    -------
    ndarray
        Step time T(s) [s].

    Notes
    -----
    T(s) = sum_ops count (max(t_clocked / s, t_dram) + t_overhead), with
    t_clocked = max(compute, SRAM) at the max clock; ``extra_s`` is clock-independent time
    outside the ops (die-to-die all-reduces of a multi-die package).

    References
    ----------
    S. Williams, A. Waterman and D. Patterson, "Roofline: an insightful visual
    performance model for multicore architectures", CACM 52(4), 2009.
    """
    per_op = np.maximum(clock_scaled_s * (1.0 / clock_fraction), dram_s)
    return per_op @ counts + overhead_s * counts.sum() + extra_s
