"""The spectral (DCT) solver of footprint-only stacks.

Many designs at once (:func:`solve_grid_batch`), with the leakage fixed point.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import fft

from dse.model.thermal_grid.results import BatchGridResult
from dse.model.thermal_grid.stack import _RUNAWAY_RISE_K, Layer, LayerStack, hotspot_stack


def _die_admittance(
    width_mm: np.ndarray,
    height_mm: np.ndarray,
    nx: int,
    ny: int,
    layers: Sequence[Layer],
    r_sink_k_per_w: np.ndarray,
) -> np.ndarray:
    """Admittance of the die node of every DCT mode [W/K], shape (B, ny, nx).

    Notes
    -----
    Per mode (m, n) the network is a ladder: each layer node has the lateral admittance
    sigma_l (dy/dx 4 sin^2(pi m / 2 nx) + dx/dy 4 sin^2(pi n / 2 ny)) to ground, layers
    are joined by A_cell / R''_l and the last one goes to ambient through
    1 / (R''_L / A_cell + nx ny r_sink). Folding the ladder from the bottom gives Y_0.
    """
    w = np.asarray(width_mm, dtype=float)[:, None, None]
    h = np.asarray(height_mm, dtype=float)[:, None, None]
    rs = np.asarray(r_sink_k_per_w, dtype=float)[:, None, None]
    dx, dy = w / nx, h / ny
    a_cell = dx * dy
    lam_x = (4.0 * np.sin(0.5 * np.pi * np.arange(nx) / nx) ** 2)[None, None, :]
    lam_y = (4.0 * np.sin(0.5 * np.pi * np.arange(ny) / ny) ** 2)[None, :, None]
    lateral = dy / dx * lam_x + dx / dy * lam_y  # (B, ny, nx), per unit sheet conductance
    last = layers[-1]
    with np.errstate(divide="ignore"):  # r = 0: an isothermal base (infinite admittance)
        y = last.sheet_conductance_w_per_k * lateral + 1.0 / (
            last.r_vertical_k_mm2_per_w / a_cell + nx * ny * rs
        )
        for la in reversed(layers[:-1]):
            gz = a_cell / la.r_vertical_k_mm2_per_w
            y = la.sheet_conductance_w_per_k * lateral + gz / (1.0 + gz / y)
    return y


def solve_grid_batch(
    width_mm: Any,
    height_mm: Any,
    power_w: np.ndarray,
    leakage_w_ref: np.ndarray | None = None,
    *,
    r_sink_k_per_w: Any,
    ambient_c: Any,
    stack: LayerStack | None = None,
    ref_temp_c: float = 85.0,
    beta_per_k: float = 0.036,
    tol_k: float = 1e-6,
    max_iter: int = 100,
    chunk: int = 512,
) -> BatchGridResult:
    """Solve many designs on an ``ny x nx`` grid at once (spectral, vectorised).

    Parameters
    ----------
    width_mm, height_mm : array_like, shape (B,)
        Die sizes [mm] (every design may differ; the grid shape is shared).
    power_w : ndarray, shape (B, ny, nx)
        Temperature-independent power per cell [W].
    leakage_w_ref : ndarray, shape (B, ny, nx), optional
        Leakage per cell at ``ref_temp_c`` [W].
    r_sink_k_per_w, ambient_c : array_like, shape (B,) or scalar
        Sink resistance [K/W] and ambient [degC] per design.
    stack : LayerStack, optional
        Must have every layer on the die footprint (default :func:`hotspot_stack`).
    ref_temp_c, beta_per_k : float
        Leakage reference temperature [degC] and coefficient [1/K].
    tol_k, max_iter : float, int
        Convergence tolerance on the update [K]; iterations [-] before declaring runaway.
    chunk : int
        Designs per vectorised block [-] (bounds the memory).

    Returns
    -------
    BatchGridResult
        Junction temperatures [degC], peak and mean [degC], leakage and dynamic power
        [W], runaway flags and iterations per design.

    Notes
    -----
    The die-layer response to a power map is theta = C^T diag(1 / Y) C q with C the
    orthonormal 2-D DCT-II and Y the mode admittances (:func:`_die_admittance`): exact
    for the finite-volume network of :class:`ThermalGrid`. Leakage uses the Newton-like
    iteration theta <- (G - c I_die)^(-1) (p + L(theta) - c theta) with the scalar
    c = min_i L_i'(theta) <= every diagonal of the true Jacobian: the shifted operator is
    still diagonal in the DCT basis, the iterates rise monotonically to the lowest fixed
    point (Ortega & Rheinboldt 13.4), and a non-positive shifted admittance (Y_00 <= c)
    proves runaway.

    References
    ----------
    G. Strang, "The discrete cosine transform", SIAM Review 41(1) 135-147, 1999 (DCT-II
    eigenvectors of the Neumann Laplacian); J. M. Ortega and W. C. Rheinboldt, *Iterative
    Solution of Nonlinear Equations in Several Variables*, Academic Press 1970 (monotone
    Newton convergence).
    """
    p = np.asarray(power_w, dtype=float)
    if p.ndim != 3:
        raise ValueError("power_w must have shape (B, ny, nx)")
    nb, ny, nx = p.shape
    stack = stack if stack is not None else hotspot_stack()
    if not stack.footprint_only:
        raise ValueError("solve_grid_batch needs a stack whose layers all have the die footprint")
    layers = stack.expanded()
    w = np.broadcast_to(np.asarray(width_mm, dtype=float), (nb,))
    h = np.broadcast_to(np.asarray(height_mm, dtype=float), (nb,))
    rs = np.broadcast_to(np.asarray(r_sink_k_per_w, dtype=float), (nb,))
    amb = np.broadcast_to(np.asarray(ambient_c, dtype=float), (nb,))
    leak = None if leakage_w_ref is None else np.asarray(leakage_w_ref, dtype=float)
    if leak is not None and leak.shape != p.shape:
        raise ValueError("leakage_w_ref must have the shape of power_w")

    temps = np.empty_like(p)
    leak_w = np.zeros(nb)
    runaway = np.zeros(nb, dtype=bool)
    iters = np.ones(nb, dtype=np.int64)
    for a in range(0, nb, chunk):
        b = min(nb, a + chunk)
        y = _die_admittance(w[a:b], h[a:b], nx, ny, layers, rs[a:b])
        pc = p[a:b]
        if leak is None or not leak[a:b].any():
            theta = fft.idctn(
                fft.dctn(pc, type=2, norm="ortho", axes=(1, 2)) / y,
                type=2,
                norm="ortho",
                axes=(1, 2),
            )
            temps[a:b] = amb[a:b, None, None] + theta
            continue
        lc = leak[a:b]
        theta, lw, ra, it = _leakage_iteration(
            pc, lc, y, amb[a:b] - ref_temp_c, beta_per_k, tol_k, max_iter
        )
        temps[a:b] = amb[a:b, None, None] + theta
        leak_w[a:b], runaway[a:b], iters[a:b] = lw, ra, it
    return BatchGridResult(
        temps_c=temps,
        peak_c=temps.max(axis=(1, 2)),
        mean_c=temps.mean(axis=(1, 2)),
        leakage_w=leak_w,
        power_w=p.sum(axis=(1, 2)),
        runaway=runaway,
        iterations=iters,
    )


def _leakage_iteration(
    p: np.ndarray,
    leak: np.ndarray,
    y: np.ndarray,
    shift_k: np.ndarray,
    beta: float,
    tol_k: float,
    max_iter: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Monotone shifted-Newton iteration of :func:`solve_grid_batch` on one chunk."""
    nb = p.shape[0]
    theta = np.zeros_like(p)
    runaway = np.zeros(nb, dtype=bool)
    iters = np.zeros(nb, dtype=np.int64)
    active = np.arange(nb)
    y00 = y[:, 0, 0]
    with np.errstate(over="ignore", invalid="ignore"):
        for it in range(1, max_iter + 1):
            th = theta[active]
            lk = leak[active] * np.exp(beta * (th + shift_k[active, None, None]))
            c = beta * lk.min(axis=(1, 2))
            bad = ~(y00[active] - c > 0.0) | ~np.isfinite(c)
            rhs = p[active] + lk - c[:, None, None] * th
            new = fft.idctn(
                fft.dctn(rhs, type=2, norm="ortho", axes=(1, 2)) / (y[active] - c[:, None, None]),
                type=2,
                norm="ortho",
                axes=(1, 2),
            )
            step = np.max(np.abs(new - th), axis=(1, 2))
            bad |= ~np.isfinite(step) | (new.max(axis=(1, 2)) > _RUNAWAY_RISE_K)
            good = ~bad
            theta[active[good]] = new[good]
            iters[active] = it
            runaway[active[bad]] = True
            done = bad | (step < tol_k)
            active = active[~done]
            if active.size == 0:
                break
        runaway[active] = True  # not converged within max_iter
        leak_w = np.sum(leak * np.exp(beta * (theta + shift_k[:, None, None])), axis=(1, 2))
    return theta, leak_w, runaway, iters
