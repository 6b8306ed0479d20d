"""The sparse conductance network of any stack (:class:`ThermalGrid`).

Assembly with :mod:`scipy.sparse`, SuperLU solves, the leakage Newton iteration.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from dse.model.thermal_grid.results import GridResult
from dse.model.thermal_grid.stack import _RUNAWAY_RISE_K, LayerStack, hotspot_stack


def _graded(band_mm: float, h0_mm: float, growth: float) -> np.ndarray:
    """Cell widths covering ``band_mm``, starting near ``h0_mm`` and growing geometrically."""
    if band_mm <= 1e-12:
        return np.zeros(0)
    n = max(1, math.ceil(math.log1p(band_mm * (growth - 1.0) / h0_mm) / math.log(growth)))
    w = h0_mm * growth ** np.arange(n)
    return w * band_mm / w.sum()


def _axis_edges(die_mm: float, n: int, sides: list[float], growth: float) -> tuple[np.ndarray, int]:
    """Global cell edges along one axis (die cells uniform, graded outside) and die offset."""
    h0 = die_mm / n
    die = np.linspace(0.0, die_mm, n + 1)
    outer: list[np.ndarray] = []
    prev = die_mm
    for s in sorted(set(sides)):
        if s <= prev + 1e-12:
            continue
        outer.append(_graded(0.5 * (s - prev), h0, growth))
        prev = s
    widths_out = np.concatenate(outer) if outer else np.zeros(0)
    left = die[0] - np.cumsum(widths_out)[::-1]
    right = die[-1] + np.cumsum(widths_out)
    return np.concatenate([left, die, right]), len(widths_out)


class ThermalGrid:
    """The conductance network of one die geometry, assembled once, solved many times.

    Parameters
    ----------
    width_mm, height_mm : float
        Die size [mm].
    nx, ny : int
        Cells across the die in x and y (``ny`` defaults to ``nx``).
    stack : LayerStack, optional
        Layers below the junction (default :func:`hotspot_stack`).
    r_sink_k_per_w : float
        Sink-base-to-ambient resistance of the whole sink [K/W], distributed over the
        last layer's area.
    growth : float, default 1.5
        Growth factor of the graded cells outside the die (layers wider than the die).

    Attributes
    ----------
    conductance : scipy.sparse.csr_matrix
        Symmetric conductance matrix G [W/K] including the ambient conductances on the
        diagonal; ``G theta = q`` with ``theta`` the rise above ambient.
    g_ambient_w_per_k : ndarray
        Conductance of every node to ambient [W/K].
    die_nodes : ndarray, shape (ny, nx)
        Node index of every die (junction) cell.

    Notes
    -----
    Finite-volume network on a tensor-product grid: lateral conductance between cells i
    and i+1 of layer l is k_l t_l dy_j / ((dx_i + dx_{i+1})/2); vertical conductance
    between layer l and l+1 is A_ij / R''_l with R''_l = t_l/k_l + R''_interface;
    convection A_ij / (R''_L + r_sink A_L) from every cell of the last layer (area A_L).
    """

    def __init__(
        self,
        width_mm: float,
        height_mm: float,
        nx: int = 16,
        ny: int | None = None,
        stack: LayerStack | None = None,
        *,
        r_sink_k_per_w: float,
        growth: float = 1.5,
    ) -> None:
        ny = nx if ny is None else ny
        if not (width_mm > 0.0 and height_mm > 0.0):
            raise ValueError("die width and height must be > 0")
        if int(nx) != nx or int(ny) != ny or nx < 1 or ny < 1:
            raise ValueError("nx and ny must be integers >= 1")
        if not (r_sink_k_per_w >= 0.0 and math.isfinite(r_sink_k_per_w)):
            raise ValueError("r_sink_k_per_w must be finite and >= 0")
        self.width_mm, self.height_mm = float(width_mm), float(height_mm)
        self.nx, self.ny = int(nx), int(ny)
        self.stack = stack if stack is not None else hotspot_stack()
        self.r_sink_k_per_w = float(r_sink_k_per_w)
        layers = self.stack.expanded()
        sides = [la.side_mm for la in layers if la.side_mm is not None]
        for s in sides:
            if s < max(width_mm, height_mm) - 1e-9:
                raise ValueError(f"layer side {s} mm is smaller than the die")
        xe, ox = _axis_edges(self.width_mm, self.nx, sides, growth)
        ye, oy = _axis_edges(self.height_mm, self.ny, sides, growth)
        self.x_edges_mm, self.y_edges_mm = xe, ye
        dx, dy = np.diff(xe), np.diff(ye)
        xc, yc = 0.5 * (xe[1:] + xe[:-1]), 0.5 * (ye[1:] + ye[:-1])
        area = dy[:, None] * dx[None, :]  # mm2
        cx, cy = 0.5 * self.width_mm, 0.5 * self.height_mm
        die_mask = np.zeros(area.shape, dtype=bool)
        die_mask[oy : oy + self.ny, ox : ox + self.nx] = True

        masks, index = [], []
        n_nodes = 0
        for la in layers:
            if la.side_mm is None:
                m = die_mask
            else:
                h = 0.5 * la.side_mm
                m = (np.abs(xc - cx)[None, :] <= h + 1e-9) & (np.abs(yc - cy)[:, None] <= h + 1e-9)
            idx = np.full(area.shape, -1, dtype=np.int64)
            idx[m] = n_nodes + np.arange(int(m.sum()))
            n_nodes += int(m.sum())
            masks.append(m)
            index.append(idx)

        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []

        def couple(a: np.ndarray, b: np.ndarray, g: np.ndarray) -> None:
            ok = (a >= 0) & (b >= 0)
            rows.append(a[ok])
            cols.append(b[ok])
            vals.append(g[ok])

        g_amb = np.zeros(n_nodes)
        for li, la in enumerate(layers):
            idx = index[li]
            sigma = la.sheet_conductance_w_per_k
            gx = sigma * dy[:, None] / (0.5 * (dx[:-1] + dx[1:]))[None, :]
            couple(idx[:, :-1], idx[:, 1:], np.broadcast_to(gx, idx[:, :-1].shape))
            gy = sigma * dx[None, :] / (0.5 * (dy[:-1] + dy[1:]))[:, None]
            couple(idx[:-1, :], idx[1:, :], np.broadcast_to(gy, idx[:-1, :].shape))
            r_v = la.r_vertical_k_mm2_per_w
            if li + 1 < len(layers):
                couple(idx, index[li + 1], area / r_v)
            else:
                a_last = float(area[masks[li]].sum())
                g = area / (r_v + self.r_sink_k_per_w * a_last)
                g_amb[idx[masks[li]]] = g[masks[li]]
        r = np.concatenate(rows)
        c = np.concatenate(cols)
        v = np.concatenate(vals)
        off = sp.coo_matrix(
            (np.concatenate([-v, -v]), (np.concatenate([r, c]), np.concatenate([c, r]))),
            shape=(n_nodes, n_nodes),
        ).tocsr()
        diag = -np.asarray(off.sum(axis=1)).ravel() + g_amb
        self.conductance = (off + sp.diags(diag)).tocsc()
        self.g_ambient_w_per_k = g_amb
        self.die_nodes = index[0][oy : oy + self.ny, ox : ox + self.nx].copy()
        self.n_nodes = n_nodes
        self._node_index = index
        self._die_offset = (oy, ox)
        self._lu: Any = None

    # -- linear solves ------------------------------------------------------------------

    def _factor(self, matrix: sp.spmatrix) -> Any:
        return spla.splu(
            sp.csc_matrix(matrix),
            permc_spec="MMD_AT_PLUS_A",
            diag_pivot_thresh=0.0,
            options={"SymmetricMode": True},
        )

    def _rhs(self, power_w: np.ndarray) -> np.ndarray:
        q = np.zeros((self.n_nodes,) + power_w.shape[2:])
        q[self.die_nodes.ravel()] = power_w.reshape((self.ny * self.nx,) + power_w.shape[2:])
        return q

    def solve_linear(self, power_w: np.ndarray) -> np.ndarray:
        """Junction temperature rise above ambient for power maps, no leakage [K].

        Parameters
        ----------
        power_w : ndarray, shape (ny, nx) or (ny, nx, k)
            Power per die cell [W]; a third axis solves k maps with one factorisation.

        Returns
        -------
        ndarray, same shape as ``power_w``
        """
        p = np.asarray(power_w, dtype=float)
        if p.shape[:2] != (self.ny, self.nx):
            raise ValueError(f"power map must have shape ({self.ny}, {self.nx}, ...)")
        if self._lu is None:
            self._lu = self._factor(self.conductance)
        theta = self._lu.solve(self._rhs(p))
        return theta[self.die_nodes.ravel()].reshape(p.shape)

    def node_rise_k(self, power_w: np.ndarray) -> np.ndarray:
        """Temperature rise of every node (all layers) for one power map, no leakage [K]."""
        if self._lu is None:
            self._lu = self._factor(self.conductance)
        return self._lu.solve(self._rhs(np.asarray(power_w, dtype=float)))

    def layer_map(self, node_values: np.ndarray, layer: int) -> np.ndarray:
        """Values of one (expanded) layer on the global grid, NaN outside the layer."""
        idx = self._node_index[layer]
        out = np.full(idx.shape, np.nan)
        out[idx >= 0] = node_values[idx[idx >= 0]]
        return out

    # -- nonlinear (leakage) solve --------------------------------------------------------

    def solve(
        self,
        power_w: np.ndarray,
        leakage_w_ref: np.ndarray | None = None,
        *,
        ambient_c: float,
        ref_temp_c: float = 85.0,
        beta_per_k: float = 0.036,
        tol_k: float = 1e-6,
        max_iter: int = 50,
    ) -> GridResult:
        """Steady state with the leakage-temperature feedback (Newton, monotone).

        Parameters
        ----------
        power_w : ndarray, shape (ny, nx)
            Temperature-independent power per die cell [W].
        leakage_w_ref : ndarray, shape (ny, nx), optional
            Leakage per cell at ``ref_temp_c`` [W] (voltage-scaled).
        ambient_c : float
            Ambient / coolant temperature [degC].
        ref_temp_c : float, default 85
            Reference temperature of ``leakage_w_ref`` [degC].
        beta_per_k : float, default 0.036
            Leakage temperature coefficient [1/K] (HotSpot).
        tol_k : float
            Convergence: largest Newton update below this [K].
        max_iter : int
            Iterations before giving up (reported as runaway).

        Returns
        -------
        GridResult

        Notes
        -----
        F(theta) = G theta - p - L(theta), L_i = l_i exp(beta (T_a + theta_i - T_ref)).
        F is concave and G an M-matrix, so Newton from theta = 0 (F <= 0) increases
        monotonically to the lowest root; the Jacobian G - diag(L') loses positive
        definiteness (a non-positive pivot of its symmetric LU) only if no root exists
        above the iterate: thermal runaway. The Jacobian is refactored only when an
        update shrinks by less than 10x (a chord method: an older, cooler Jacobian
        dominates the current one, so monotonicity and the runaway test still hold).
        """
        p = np.asarray(power_w, dtype=float)
        if p.shape != (self.ny, self.nx):
            raise ValueError(f"power map must have shape ({self.ny}, {self.nx})")
        leak = None if leakage_w_ref is None else np.asarray(leakage_w_ref, dtype=float)
        if leak is not None and not leak.any():
            leak = None
        if leak is None:
            theta = self.solve_linear(p)
            return self._result(theta, p, 0.0, False, 1, ambient_c)
        ld = leak.ravel()
        nodes = self.die_nodes.ravel()
        theta = np.zeros(self.n_nodes)
        base = self._rhs(p).ravel()
        shift = ambient_c - ref_temp_c
        runaway, it, lu, last_step, slow = True, 0, None, np.inf, True
        d_f: Any = None  # the leakage derivative of the last factorised Jacobian
        with np.errstate(over="ignore", invalid="ignore"):
            for k in range(1, max_iter + 1):
                it = k
                lk = ld * np.exp(beta_per_k * (theta[nodes] + shift))
                d = beta_per_k * lk
                if lu is None or slow:
                    # (re)factor the Jacobian at the current iterate
                    jac = self.conductance - sp.csc_matrix(
                        (d, (nodes, nodes)), shape=(self.n_nodes, self.n_nodes)
                    )
                    try:
                        lu = self._factor(jac)
                    except RuntimeError:  # exactly singular Jacobian: at the fold
                        break
                    if not np.all(lu.U.diagonal() > 0.0):
                        break
                    d_f = d
                rhs = base.copy()
                rhs[nodes] += lk - d_f * theta[nodes]
                new = lu.solve(rhs)
                step = float(np.max(np.abs(new - theta)))
                theta = new
                if not np.all(np.isfinite(theta)) or theta.max() > _RUNAWAY_RISE_K:
                    break
                if step < tol_k:
                    runaway = False
                    break
                slow = step > 0.1 * last_step
                last_step = step
        die = theta[nodes].reshape(self.ny, self.nx)
        die = np.where(np.isfinite(die), die, _RUNAWAY_RISE_K)
        with np.errstate(over="ignore"):
            leak_w = float(np.sum(leak * np.exp(beta_per_k * (die + shift))))
        return self._result(die, p, leak_w, runaway, it, ambient_c)

    def _result(
        self, theta: np.ndarray, p: np.ndarray, leak_w: float, runaway: bool, it: int, amb: float
    ) -> GridResult:
        t = amb + theta
        return GridResult(
            temps_c=t,
            peak_c=float(t.max()),
            mean_c=float(t.mean()),
            leakage_w=leak_w,
            power_w=float(p.sum()),
            runaway=bool(runaway),
            iterations=int(it),
            width_mm=self.width_mm,
            height_mm=self.height_mm,
        )
