"""The roofline of one design on a workload: its compute, SRAM and DRAM roofs and every op at its arithmetic intensity (``roofline.png``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd

from dse.plots.common import _new_axes, _tidy_log_axis

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

_BOUND_COLORS = {"compute": "#d62728", "dram": "#1f77b4", "sram": "#2ca02c", "overhead": "#7f7f7f"}


class RooflineData(NamedTuple):
    """Data of a roofline plot.

    ``ops`` has one row per op with ``op``, ``intensity_flop_per_byte``,
    ``achieved_tflops``, ``time_s``, ``total_time_s``, ``time_share`` (fraction of the
    step time),
    ``bound`` and the drawn position ``x``/``y`` (clipped into the axes when the
    intensity is 0 or infinite or the throughput 0, flagged in ``clipped``).
    """

    peak_tflops: float
    dram_bandwidth_gbps: float
    sram_bandwidth_gbps: float
    ridge_dram_flop_per_byte: float
    ridge_sram_flop_per_byte: float
    ops: pd.DataFrame
    x_range: tuple[float, float]
    y_range: tuple[float, float]


def roof_tflops(intensity_flop_per_byte: Any, peak_tflops: float, bandwidth_gbps: float) -> Any:
    """Attainable throughput of the roofline model.

    Parameters
    ----------
    intensity_flop_per_byte : numeric
        Arithmetic intensity [FLOP/byte].
    peak_tflops : float
        Compute ceiling [TFLOP/s].
    bandwidth_gbps : float
        Memory bandwidth [GB/s] (1e9 byte/s).

    Returns
    -------
    numeric
        ``min(peak, bandwidth * intensity)`` [TFLOP/s].

    Notes
    -----
    P = min(P_peak, B * I) with B * I [GB/s * FLOP/byte] = 1e-3 TFLOP/s
    (Williams, Waterman and Patterson, "Roofline", CACM 52(4), 2009).
    """
    return np.minimum(peak_tflops, bandwidth_gbps * np.asarray(intensity_flop_per_byte) * 1e-3)


def _decade_floor(v: float) -> float:
    return 10.0 ** math.floor(math.log10(v))


def _decade_ceil(v: float) -> float:
    return 10.0 ** math.ceil(math.log10(v))


def roofline_data(ops_df: pd.DataFrame, ceilings: Mapping[str, float]) -> RooflineData:
    """Place a workload's ops under a chip's roofline.

    Parameters
    ----------
    ops_df : pandas.DataFrame
        One row per op (``dse.chain.op_breakdown``) with ``op``,
        ``intensity_flop_per_byte`` (FLOP per off-chip byte), ``achieved_tflops``,
        ``time_s`` (one instance) and ``bound``; optional ``total_time_s`` (all
        instances; else ``time_s * count``) sets the time share, and an op whose
        ``dram_bytes`` is 0 gets an infinite intensity (drawn at the right edge).
    ceilings : mapping
        ``peak_tflops`` [TFLOP/s], ``dram_bandwidth_gbps`` [GB/s] and optionally
        ``sram_bandwidth_gbps`` [GB/s] (``dse.chain.roofline_ceilings``).

    Returns
    -------
    RooflineData
        Ceilings, ridge points (peak / bandwidth [FLOP/byte]), ops with their time share
        and drawn position, and log-axis ranges spanning whole decades.

    Notes
    -----
    Ridge point I* = P_peak / B = 1e3 * peak_tflops / bandwidth_gbps [FLOP/byte].
    """
    peak = float(ceilings["peak_tflops"])
    dram = float(ceilings.get("dram_bandwidth_gbps", np.nan) or np.nan)
    sram = float(ceilings.get("sram_bandwidth_gbps", np.nan) or np.nan)
    ridge_dram = 1e3 * peak / dram if np.isfinite(dram) and dram > 0 else np.nan
    ridge_sram = 1e3 * peak / sram if np.isfinite(sram) and sram > 0 else np.nan

    def col(name: str) -> np.ndarray:
        return pd.to_numeric(ops_df[name], errors="coerce").to_numpy(float)

    intensity = col("intensity_flop_per_byte")
    if "dram_bytes" in ops_df:
        # an op that moves no off-chip byte has no finite off-chip intensity
        intensity = np.where(col("dram_bytes") > 0, intensity, np.inf)
    ops = pd.DataFrame(
        {
            "op": ops_df["op"].astype(str).to_numpy(),
            "intensity_flop_per_byte": intensity,
            "achieved_tflops": col("achieved_tflops"),
            "time_s": col("time_s"),
            "bound": ops_df["bound"].astype(str).to_numpy() if "bound" in ops_df else "",
        }
    )
    if "total_time_s" in ops_df:
        total = col("total_time_s")
    else:
        total = ops["time_s"].to_numpy() * (col("count") if "count" in ops_df else 1.0)
    ops["total_time_s"] = total
    ops["time_share"] = total / total.sum() if total.sum() > 0 else 0.0

    inten = ops["intensity_flop_per_byte"].to_numpy()
    perf = ops["achieved_tflops"].to_numpy()
    pos_i = inten[np.isfinite(inten) & (inten > 0)]
    ridges = [r for r in (ridge_dram, ridge_sram) if np.isfinite(r) and r > 0]
    xs = np.concatenate([pos_i, ridges]) if len(pos_i) + len(ridges) else np.array([1.0])
    x_lo = _decade_floor(xs.min() / 3.0)
    x_hi = _decade_ceil(xs.max() * 3.0)
    pos_p = perf[np.isfinite(perf) & (perf > 0)]
    y_lo = _decade_floor(min(pos_p.min() if pos_p.size else peak, peak) / 3.0)
    y_hi = _decade_ceil(peak * 2.0)

    clipped = ~(np.isfinite(inten) & (inten > 0) & np.isfinite(perf) & (perf > 0))
    ops["x"] = np.clip(np.where(np.isfinite(inten), inten, x_hi), x_lo, x_hi)
    ops["x"] = np.where(np.isnan(inten), x_lo, ops["x"])
    ops["y"] = np.clip(np.nan_to_num(perf, nan=y_lo, posinf=y_hi), y_lo, y_hi)
    ops["clipped"] = clipped
    return RooflineData(
        peak_tflops=peak,
        dram_bandwidth_gbps=dram,
        sram_bandwidth_gbps=sram,
        ridge_dram_flop_per_byte=ridge_dram,
        ridge_sram_flop_per_byte=ridge_sram,
        ops=ops,
        x_range=(x_lo, x_hi),
        y_range=(y_lo, y_hi),
    )


def _op_marker_area(time_share: Any) -> Any:
    """Marker area [points^2] of an op: 25 + 900 x its share of the step time."""
    return 25.0 + 900.0 * np.asarray(time_share, dtype=float)


def _label_ops(ax: Axes, ops: pd.DataFrame, x_hi: float, max_labels: int) -> None:
    """One label per cluster of ops drawn at (nearly) the same place, largest share first.

    Ops within 0.08 decade of each other in both axes share a multi-line label; labels
    of ops at the right edge go to their left so they stay inside the axes. Call after
    the axis limits are final: a label that would overlap an earlier one is moved up or
    down (a leader line joins it to its op).
    """
    top = ops.sort_values("time_share", ascending=False).head(max_labels)
    lx = np.log10(top["x"].to_numpy(float))
    ly = np.log10(top["y"].to_numpy(float))
    cluster = np.full(len(top), -1)
    for i in range(len(top)):  # greedy: join the first earlier op within 0.08 decade
        if cluster[i] < 0:
            near = (cluster < 0) & (np.abs(lx - lx[i]) <= 0.08) & (np.abs(ly - ly[i]) <= 0.08)
            cluster[near] = i
    labels = []
    for _, members in top.groupby(cluster, sort=False):
        first = members.iloc[0]
        radius = 0.5 * math.sqrt(float(_op_marker_area(members["time_share"].max())))
        gap = 4.0 + radius
        text = "\n".join(f"{r.op} ({100 * r.time_share:.0f}%)" for r in members.itertuples())
        at_edge = first["x"] >= x_hi * 0.999
        labels.append(
            ax.annotate(
                text,
                (first["x"], first["y"]),
                xytext=(-gap, 0) if at_edge else (gap, 0),
                textcoords="offset points",
                ha="right" if at_edge else "left",
                va="center",
                fontsize=7,
                zorder=6,
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "0.6"},
                arrowprops={
                    "arrowstyle": "-",
                    "color": "0.45",
                    "lw": 0.6,
                    "shrinkA": 0.0,
                    "shrinkB": radius,
                },
            )
        )
    for label in labels:
        label.set_in_layout(False)  # the labels must not move the axes they are placed in
    try:
        figure: Any = ax.figure
        figure.draw_without_rendering()  # run the layout so positions are final
        renderer = figure.canvas.get_renderer()
    except AttributeError:  # a canvas without a renderer: keep the labels where they are
        return
    from matplotlib.text import Text

    def extent(label: Any) -> Any:  # the text alone, without the leader line
        return Text.get_window_extent(label, renderer).padded(3.0)

    from matplotlib.transforms import Bbox

    points_per_pixel = 72.0 / ax.figure.dpi
    centres = ax.transData.transform(top[["x", "y"]].to_numpy(float))
    radii = 0.5 * np.sqrt(_op_marker_area(top["time_share"].to_numpy())) / points_per_pixel
    placed = [  # the op discs are obstacles too
        Bbox.from_extents(cx - r, cy - r, cx + r, cy + r)
        for (cx, cy), r in zip(centres, radii, strict=True)
    ]
    for label in labels:
        x0, y0 = label.xyann
        box = extent(label)
        step = box.height * points_per_pixel
        for k in range(16):
            if not any(box.overlaps(p) for p in placed):
                break
            shift = (k // 2 + 1) * step
            label.xyann = (x0, y0 - shift if k % 2 == 0 else y0 + shift)
            box = extent(label)
        placed.append(box)


def plot_roofline(
    data: RooflineData,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    max_labels: int = 25,
) -> Axes:
    """Draw a roofline with the workload's ops on it.

    Log-log axes; the compute peak as a horizontal ceiling, the DRAM and SRAM bandwidth
    roofs as slopes (dashed for SRAM), ridge points marked; each op a disc whose area is
    its share of the step time, coloured by what bounds it, labelled with its name.

    Parameters
    ----------
    data : RooflineData
        From :func:`roofline_data`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure when omitted.
    title : str, optional
        Defaults to ``"Roofline"``.
    max_labels : int
        Only the ``max_labels`` ops with the largest time share are labelled.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    The x axis is the intensity against *off-chip* bytes, so DRAM-bound ops sit on the
    DRAM roof; the SRAM roof is drawn on the same axis as the ceiling an op with that
    intensity would meet if its on-chip traffic equalled its off-chip traffic (an
    SRAM-bound op therefore lies below both roofs: its SRAM traffic is larger).
    """
    from matplotlib.lines import Line2D

    ax = _new_axes(ax, (7.5, 5.5))
    x_lo, x_hi = data.x_range
    grid = np.logspace(math.log10(x_lo), math.log10(x_hi), 400)
    ax.axhline(data.peak_tflops, color="black", lw=1.0, ls=":", alpha=0.6)
    if np.isfinite(data.dram_bandwidth_gbps):
        ax.plot(
            grid,
            roof_tflops(grid, data.peak_tflops, data.dram_bandwidth_gbps),
            color="#1f77b4",
            lw=2.0,
            label=f"DRAM roof {data.dram_bandwidth_gbps:,.0f} GB/s "
            f"(ridge {data.ridge_dram_flop_per_byte:.3g} FLOP/B)",
        )
        ax.plot([data.ridge_dram_flop_per_byte], [data.peak_tflops], "o", color="#1f77b4", ms=4)
    if np.isfinite(data.sram_bandwidth_gbps):
        ax.plot(
            grid,
            roof_tflops(grid, data.peak_tflops, data.sram_bandwidth_gbps),
            color="#2ca02c",
            lw=1.5,
            ls="--",
            label=f"SRAM roof {data.sram_bandwidth_gbps:,.0f} GB/s "
            f"(ridge {data.ridge_sram_flop_per_byte:.3g} FLOP/B)",
        )
    ax.plot(
        [], [], color="black", lw=1.0, ls=":", label=f"compute peak {data.peak_tflops:.4g} TFLOP/s"
    )

    ops = data.ops
    sizes = _op_marker_area(ops["time_share"].to_numpy())
    colors = [_BOUND_COLORS.get(b, "#9467bd") for b in ops["bound"]]
    ax.scatter(
        ops["x"],
        ops["y"],
        s=sizes,
        c=colors,
        alpha=0.75,
        edgecolors="black",
        linewidths=0.6,
        zorder=4,
    )
    clipped = ops[ops["clipped"]]
    if len(clipped):
        ax.scatter(clipped["x"], clipped["y"], s=60, marker="x", c="black", zorder=5, clip_on=False)
    handles, _ = ax.get_legend_handles_labels()
    for bound in dict.fromkeys(ops["bound"]):
        handles.append(
            Line2D(
                [],
                [],
                ls="",
                marker="o",
                ms=7,
                mfc=_BOUND_COLORS.get(bound, "#9467bd"),
                mec="black",
                label=f"op, {bound}-bound",
            )
        )
    if len(clipped):
        handles.append(
            Line2D(
                [],
                [],
                ls="",
                marker="x",
                c="black",
                label="no off-chip traffic / off-scale (at the edge)",
            )
        )
    handles.append(Line2D([], [], ls="", label="disc area ∝ share of step time"))
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize="small",
        framealpha=0.9,
        borderaxespad=0.0,
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(*data.y_range)
    _tidy_log_axis(ax.xaxis)
    _tidy_log_axis(ax.yaxis)
    ax.set_xlabel("arithmetic intensity [FLOP/byte of off-chip traffic]")
    ax.set_ylabel("throughput [TFLOP/s]")
    ax.set_title(title or "Roofline")
    ax.grid(True, which="major", alpha=0.35)
    ax.grid(True, which="minor", alpha=0.12)
    _label_ops(ax, ops, x_hi, max_labels)
    return ax
