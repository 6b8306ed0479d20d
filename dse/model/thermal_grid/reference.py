"""Analytic reference solutions for validation.

Fourier-series spreading of rectangular and circular sources, Lee's spreading resistance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import special

from dse.model.thermal_grid.stack import K_MM2_PER_W, MM, LayerStack


def _tanhc(x: np.ndarray) -> np.ndarray:
    """tanh(x)/x with the limit 1 at 0."""
    x = np.asarray(x, dtype=float)
    small = np.abs(x) < 1e-8
    return np.where(small, 1.0 - x * x / 3.0, np.tanh(x) / np.where(small, 1.0, x))


def spreading_impedance(
    zeta_per_m: np.ndarray,
    stack: LayerStack,
    r_conv_k_m2_per_w: float,
    model: str = "3d",
) -> np.ndarray:
    """Surface impedance of a Fourier mode on the layer stack [K m2/W].

    A heat-flux mode q cos(lambda x) cos(delta y) on the junction surface raises its
    temperature by Z(zeta) q, zeta = sqrt(lambda^2 + delta^2).

    Parameters
    ----------
    zeta_per_m : array_like
        Mode wavenumber [1/m]; 0 gives the 1-D resistance R''_1D + R''_conv.
    stack : LayerStack
        The layers; interfaces are pure resistances, a layer without
        ``vertical_resistance`` conducts only laterally (k_z -> infinity).
    r_conv_k_m2_per_w : float
        Convective resistance of the base per unit area [K m2/W] (``r_sink A_die``).
    model : {"3d", "2.5d"}
        "3d": exact solution of Laplace's equation in every layer (a compound flux
        channel, Muzychka et al. 2004; layer by layer as in the transmission-line form).
        "2.5d": the continuum limit of the grid model (one node per (sub)layer at its top
        face, lateral sheet conductance k t): the grid converges to this as nx, ny grow.

    Returns
    -------
    ndarray
        Z(zeta), the rise of the junction surface per unit mode flux [K m2/W], shape of
        ``zeta_per_m``.

    Notes
    -----
    3-D layer (k, t) over a base of impedance Z_b:
    Z = (Z_b + tanh(zeta t)/(k zeta)) / (1 + k zeta Z_b tanh(zeta t)).
    Lateral-only layer: Z = Z_b / (1 + k t zeta^2 Z_b). 2.5-D node: Z = 1 / (k t zeta^2 +
    1 / (R''_l + Z_below)).

    References
    ----------
    Y. S. Muzychka, M. M. Yovanovich, J. R. Culham, "Thermal spreading resistance in
    compound and orthotropic systems", J. Thermophysics and Heat Transfer 18(1) 45-51,
    2004.
    """
    z = np.asarray(zeta_per_m, dtype=float)
    if model == "3d":
        out = np.full(z.shape, float(r_conv_k_m2_per_w))
        for la in reversed(stack.layers):
            out = out + la.r_below_k_mm2_per_w * K_MM2_PER_W
            k, t = la.conductivity_w_per_mk, la.thickness_mm * MM
            if not la.vertical_resistance:
                out = out / (1.0 + k * t * z * z * out)
                continue
            th = np.tanh(z * t)
            out = (out + t / k * _tanhc(z * t)) / (1.0 + k * z * th * out)
        return out
    if model == "2.5d":
        layers = stack.expanded()
        out = np.full(z.shape, float(r_conv_k_m2_per_w))
        for la in reversed(layers):
            r = la.r_vertical_k_mm2_per_w * K_MM2_PER_W
            out = 1.0 / (la.sheet_conductance_w_per_k * z * z + 1.0 / (r + out))
        return out
    raise ValueError("model must be '3d' or '2.5d'")


def rectangular_sources_temperature_rise(
    x_mm: Any,
    y_mm: Any,
    width_mm: float,
    height_mm: float,
    sources: Sequence[tuple[float, float, float, float, float]],
    stack: LayerStack,
    r_sink_k_per_w: float,
    *,
    model: str = "3d",
    terms: int = 1000,
) -> np.ndarray:
    """Junction temperature rise of uniform rectangular heat sources on a die [K].

    The die (width x height, adiabatic edges) sits on the layer stack, cooled through
    ``r_sink`` spread over the die area: the rectangular flux channel of Muzychka,
    Culham & Yovanovich (2003) generalised to a layered channel.

    Parameters
    ----------
    x_mm, y_mm : array_like
        Points on the junction surface [mm] (broadcast together).
    width_mm, height_mm : float
        Die size [mm].
    sources : sequence of (x0_mm, y0_mm, w_mm, h_mm, power_w)
        Uniform-flux rectangles: corner and size [mm], power [W].
    stack : LayerStack
        The layers below the junction.
    r_sink_k_per_w : float
        Sink-to-ambient resistance [K/W].
    model : {"3d", "2.5d"}
        See :func:`spreading_impedance`.
    terms : int
        Fourier modes per direction [-] (truncation error ~ 1/terms at a source).

    Returns
    -------
    ndarray
        Rise above ambient at the points [K].

    Notes
    -----
    theta(x, y) = sum_mn e_m e_n / (W H) Q_mn Z(zeta_mn) cos(m pi x/W) cos(n pi y/H) with
    Q_mn = sum_s (P_s / (w_s h_s)) int cos(m pi x/W) dx int cos(n pi y/H) dy over the
    source, e_0 = 1, e_m = 2.

    References
    ----------
    Y. S. Muzychka, J. R. Culham, M. M. Yovanovich, "Thermal spreading resistance of
    eccentric heat sources on rectangular flux channels", J. Electronic Packaging 125(2)
    178-185, 2003.
    """
    W, H = width_mm * MM, height_mm * MM
    m = np.arange(terms)
    lam = m * np.pi / W
    dl = m * np.pi / H
    src = np.asarray(sources, dtype=float).reshape(-1, 5)
    x0, y0, sw, sh, pw = (src[:, i] for i in range(5))
    x0, y0, sw, sh = x0 * MM, y0 * MM, sw * MM, sh * MM

    def integral(lo: np.ndarray, width: np.ndarray, k: np.ndarray) -> np.ndarray:
        kk = k[None, :]
        safe = np.where(kk == 0.0, 1.0, kk)
        val = (np.sin(kk * (lo + width)[:, None]) - np.sin(kk * lo[:, None])) / safe
        return np.where(kk == 0.0, width[:, None], val)

    ix = integral(x0, sw, lam)  # (S, M)
    iy = integral(y0, sh, dl)  # (S, N)
    flux = pw / (sw * sh)
    eps = np.where(m == 0, 1.0, 2.0)
    q = np.einsum("s,sm,sn->mn", flux, ix, iy) * (eps[:, None] * eps[None, :]) / (W * H)
    zeta = np.sqrt(lam[:, None] ** 2 + dl[None, :] ** 2)
    coef = q * spreading_impedance(zeta, stack, r_sink_k_per_w * W * H, model)
    xs, ys = np.broadcast_arrays(
        np.asarray(x_mm, dtype=float) * MM, np.asarray(y_mm, dtype=float) * MM
    )
    cx = np.cos(lam[None, :] * xs.reshape(-1, 1))
    cy = np.cos(dl[None, :] * ys.reshape(-1, 1))
    out = np.einsum("pm,mn,pn->p", cx, coef, cy)
    return out.reshape(xs.shape)


def circular_source_temperature_rise(
    source_radius_mm: float,
    plate_radius_mm: float,
    power_w: float,
    stack: LayerStack,
    h_w_per_m2k: float,
    *,
    terms: int = 4000,
) -> tuple[float, float]:
    """Centre and source-average rise of a circular isoflux source on a disk [K].

    Exact Bessel-series solution (Yovanovich, Culham & Teertstra 1998; Lee et al. 1995):
    source radius a on a disk of radius b (adiabatic rim) over the layer stack, whose
    base is cooled with a heat-transfer coefficient h to ambient.

    Parameters
    ----------
    source_radius_mm, plate_radius_mm : float
        Radius a of the source and b of the disk [mm], a <= b.
    power_w : float
        Power of the source [W].
    stack : LayerStack
        The layers below the surface (every layer's ``side_mm`` is ignored).
    h_w_per_m2k : float
        Heat-transfer coefficient of the base to ambient [W/(m2 K)].
    terms : int
        Bessel-series terms [-].

    Returns
    -------
    center_k, average_k : float
        Rise above ambient at the source centre and averaged over the source [K].

    Notes
    -----
    theta = q_bar Z(0) + sum_n q_n Z(delta_n / b) J0(delta_n r / b), J1(delta_n) = 0,
    q_n = 2 q eps J1(delta_n eps) / (delta_n J0(delta_n)^2), eps = a/b, q = P/(pi a^2).

    References
    ----------
    S. Lee, S. Song, V. Au, K. P. Moran, "Constriction/spreading resistance model for
    electronics packaging", ASME/JSME Thermal Engineering Conf. 1995, vol. 4, 199-206;
    M. M. Yovanovich, J. R. Culham, P. Teertstra, 1998 (the Bessel-series solution).
    """
    a, b = source_radius_mm * MM, plate_radius_mm * MM
    eps = a / b
    q = power_w / (math.pi * a * a)
    qbar = power_w / (math.pi * b * b)
    d = special.jn_zeros(1, terms)
    z = spreading_impedance(d / b, stack, 1.0 / h_w_per_m2k, "3d")
    z0 = float(spreading_impedance(np.array(0.0), stack, 1.0 / h_w_per_m2k, "3d"))
    qn = 2.0 * q * eps * special.j1(d * eps) / (d * special.j0(d) ** 2)
    center = qbar * z0 + float(np.sum(qn * z))
    average = qbar * z0 + float(np.sum(qn * z * 2.0 * special.j1(d * eps) / (eps * d)))
    return center, average


def lee_spreading_resistance(
    source_radius_mm: float,
    plate_radius_mm: float,
    thickness_mm: float,
    conductivity_w_per_mk: float,
    h_w_per_m2k: float,
) -> tuple[float, float]:
    """Closed-form total resistance of a circular source on a cooled plate [K/W].

    Lee, Song, Au & Moran (1995): source radius a on a plate of radius b, thickness t,
    conductivity k, cooled on the far side with h.

    Parameters
    ----------
    source_radius_mm, plate_radius_mm : float
        Radius a of the source and b of the plate [mm], a <= b.
    thickness_mm : float
        Plate thickness t [mm].
    conductivity_w_per_mk : float
        Plate conductivity k [W/(m K)].
    h_w_per_m2k : float
        Heat-transfer coefficient of the far side [W/(m2 K)].

    Returns
    -------
    r_average_k_per_w, r_max_k_per_w : float
        Total (spreading + 1-D) resistance to the source-average and to the maximum
        (centre) temperature [K/W].

    Notes
    -----
    eps = a/b, tau = t/b, Bi = h b/k, lambda = pi + 1/(sqrt(pi) eps),
    Phi = (tanh(lambda tau) + lambda/Bi) / (1 + lambda/Bi tanh(lambda tau)),
    psi_avg = (1 - eps)^1.5 Phi / 2, psi_max = eps tau / sqrt(pi) + (1 - eps) Phi / sqrt(pi),
    R_s = psi / (sqrt(pi) k a), R_1D = t / (k pi b^2) + 1 / (h pi b^2).

    References
    ----------
    S. Lee, S. Song, V. Au, K. P. Moran, "Constriction/spreading resistance model for
    electronics packaging", ASME/JSME Thermal Engineering Conf. 1995, vol. 4, 199-206.
    """
    a, b, t = source_radius_mm * MM, plate_radius_mm * MM, thickness_mm * MM
    k, h = conductivity_w_per_mk, h_w_per_m2k
    eps, tau, bi = a / b, t / b, h * b / k
    lam = math.pi + 1.0 / (math.sqrt(math.pi) * eps)
    th = math.tanh(lam * tau)
    phi = (th + lam / bi) / (1.0 + lam / bi * th)
    psi_avg = 0.5 * (1.0 - eps) ** 1.5 * phi
    psi_max = eps * tau / math.sqrt(math.pi) + (1.0 - eps) * phi / math.sqrt(math.pi)
    r1d = t / (k * math.pi * b * b) + 1.0 / (h * math.pi * b * b)
    scale = 1.0 / (math.sqrt(math.pi) * k * a)
    return psi_avg * scale + r1d, psi_max * scale + r1d
