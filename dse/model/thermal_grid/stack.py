"""The layer stack below the junction.

:class:`Layer`, :class:`LayerStack` and :func:`hotspot_stack`, the stack whose 1-D
resistance equals the lumped model's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

MM = 1e-3  # m per mm
K_MM2_PER_W = 1e-6  # m2 K/W per K mm2/W
_RUNAWAY_RISE_K = 1000.0  # a rise above this is runaway (far beyond any physical Tj)


@dataclass(frozen=True)
class Layer:
    """One layer of the stack below the junction.

    Parameters
    ----------
    name : str
        Label (``silicon``, ``spreader``, ``sink``...).
    thickness_mm : float
        Thickness [mm] (> 0).
    conductivity_w_per_mk : float
        Thermal conductivity [W/(m K)] (> 0).
    r_below_k_mm2_per_w : float, default 0
        Area-normalised interface resistance (a TIM) between this layer and the next,
        or, for the last layer, between it and the convective surface [K mm2/W].
    vertical_resistance : bool, default True
        Count the layer's own conduction resistance ``t/k`` in the vertical path. False
        for a heat-sink base whose vertical resistance is already inside ``r_sink``: it
        then only spreads heat laterally.
    side_mm : float or None, default None
        Side of a square layer centred on the die [mm]; None = the die footprint. Only
        :class:`ThermalGrid` (sparse) supports layers wider than the die.
    sublayers : int, default 1
        Split the layer into this many nodes through its thickness (finer vertical
        resolution; 1 = the compact model).
    """

    name: str
    thickness_mm: float
    conductivity_w_per_mk: float
    r_below_k_mm2_per_w: float = 0.0
    vertical_resistance: bool = True
    side_mm: float | None = None
    sublayers: int = 1

    def __post_init__(self) -> None:
        """Refuse a non-physical layer (ValueError naming the layer and the field)."""
        if not (self.thickness_mm > 0.0 and math.isfinite(self.thickness_mm)):
            raise ValueError(f"layer {self.name!r}: thickness_mm must be > 0")
        if not (self.conductivity_w_per_mk > 0.0 and math.isfinite(self.conductivity_w_per_mk)):
            raise ValueError(f"layer {self.name!r}: conductivity_w_per_mk must be > 0")
        if not (self.r_below_k_mm2_per_w >= 0.0 and math.isfinite(self.r_below_k_mm2_per_w)):
            raise ValueError(f"layer {self.name!r}: r_below_k_mm2_per_w must be >= 0")
        if self.side_mm is not None and not self.side_mm > 0.0:
            raise ValueError(f"layer {self.name!r}: side_mm must be > 0 or None")
        if int(self.sublayers) != self.sublayers or self.sublayers < 1:
            raise ValueError(f"layer {self.name!r}: sublayers must be an integer >= 1")
        if self.sublayers > 1 and not self.vertical_resistance:
            raise ValueError(f"layer {self.name!r}: sublayers need vertical_resistance=True")

    @property
    def sheet_conductance_w_per_k(self) -> float:
        """In-plane conductance of one square of the layer, k t [W/K]."""
        return self.conductivity_w_per_mk * self.thickness_mm * MM

    @property
    def conduction_k_mm2_per_w(self) -> float:
        """Own vertical resistance t/k [K mm2/W] (0 when ``vertical_resistance`` is off)."""
        if not self.vertical_resistance:
            return 0.0
        return self.thickness_mm * MM / self.conductivity_w_per_mk / K_MM2_PER_W

    @property
    def r_vertical_k_mm2_per_w(self) -> float:
        """Resistance from this layer's top face to the next layer's top face [K mm2/W]."""
        return self.conduction_k_mm2_per_w + self.r_below_k_mm2_per_w


@dataclass(frozen=True)
class LayerStack:
    """The layers below the junction, top (silicon) first."""

    layers: tuple[Layer, ...]

    def __post_init__(self) -> None:
        """Refuse an empty stack, a die layer wider than the die, a zero vertical path."""
        object.__setattr__(self, "layers", tuple(self.layers))
        if not self.layers:
            raise ValueError("a layer stack needs at least one layer")
        if self.layers[0].side_mm is not None:
            raise ValueError("the first (die) layer must have the die footprint (side_mm=None)")
        for layer in self.layers[:-1]:
            if layer.r_vertical_k_mm2_per_w <= 0.0:
                raise ValueError(
                    f"layer {layer.name!r}: the vertical resistance to the next layer must be > 0"
                )

    @property
    def r_1d_k_mm2_per_w(self) -> float:
        """Area-normalised 1-D resistance junction -> convective surface [K mm2/W].

        For :func:`hotspot_stack` this equals ``r_package_k_mm2_per_w``.
        """
        return sum(layer.r_vertical_k_mm2_per_w for layer in self.layers)

    @property
    def footprint_only(self) -> bool:
        """True when every layer has the die's footprint (the spectral solver applies)."""
        return all(layer.side_mm is None for layer in self.layers)

    def expanded(self) -> tuple[Layer, ...]:
        """Layers with ``sublayers`` split into single-node layers (interface at the bottom)."""
        out: list[Layer] = []
        for layer in self.layers:
            n = layer.sublayers
            for s in range(n):
                out.append(
                    replace(
                        layer,
                        name=layer.name if n == 1 else f"{layer.name}[{s}]",
                        thickness_mm=layer.thickness_mm / n,
                        r_below_k_mm2_per_w=layer.r_below_k_mm2_per_w if s == n - 1 else 0.0,
                        sublayers=1,
                    )
                )
        return tuple(out)

    def with_sublayers(self, **sublayers: int) -> LayerStack:
        """Return a copy with ``sublayers`` changed per layer name, e.g. ``spreader=4``.

        Parameters
        ----------
        **sublayers : int
            Nodes through the thickness [-] per layer name (``spreader=4``).

        Returns
        -------
        LayerStack
            The same layers with the new node counts; ValueError for an unknown name.
        """
        unknown = set(sublayers) - {layer.name for layer in self.layers}
        if unknown:
            raise ValueError(f"no layer named {sorted(unknown)}")
        return LayerStack(
            tuple(
                replace(layer, sublayers=sublayers.get(layer.name, layer.sublayers))
                for layer in self.layers
            )
        )


def hotspot_stack(
    r_package_k_mm2_per_w: float = 14.0,
    *,
    die_thickness_mm: float = 0.15,
    k_silicon_w_per_mk: float = 130.0,
    tim_thickness_mm: float = 0.02,
    k_tim_w_per_mk: float = 4.0,
    spreader_thickness_mm: float = 1.0,
    k_spreader_w_per_mk: float = 400.0,
    sink_thickness_mm: float = 6.9,
    k_sink_w_per_mk: float = 400.0,
    die_sublayers: int = 2,
    spreader_sublayers: int = 4,
) -> LayerStack:
    """Build the default stack: silicon, TIM1, copper spreader, TIM2 and the sink base.

    The layers and constants are HotSpot's defaults (``docs/reference/nodes.md``
    §4.1: ``example.config``/``example.materials`` of HotSpot 6/7); TIM2 takes whatever
    is left of the lumped ``r_package_k_mm2_per_w`` so the 1-D resistance is identical.

    Parameters
    ----------
    r_package_k_mm2_per_w : float, default 14.0
        Area-normalised junction-to-sink-base resistance of the lumped model
        (``dse/data/model_constants.csv``) [K mm2/W].
    die_thickness_mm, k_silicon_w_per_mk : float
        Silicon thickness [mm] and conductivity [W/(m K)]: 0.15 mm, 130 W/(m K)
        (HotSpot example.config; 100 in temperature.c).
    tim_thickness_mm, k_tim_w_per_mk : float
        TIM1 thickness [mm] and conductivity [W/(m K)]: 20 um, 4 W/(m K).
    spreader_thickness_mm, k_spreader_w_per_mk : float
        Copper spreader (lid) thickness [mm] and conductivity [W/(m K)]: 1 mm,
        400 W/(m K).
    sink_thickness_mm, k_sink_w_per_mk : float
        Sink base thickness [mm] and conductivity [W/(m K)]: 6.9 mm copper,
        400 W/(m K); lateral spreading only (its vertical resistance is part of
        ``r_sink``).
    die_sublayers, spreader_sublayers : int, default 2 and 4
        Nodes through the silicon and spreader thickness [-]. 1 and 1 is HotSpot's compact
        model; 2 and 4 bring the peak of an 8 mm hot block within 1 % of the exact 3-D
        solution (2.9 % with 1 and 1, docs/thermal.md) at no cost in the spectral solver.

    Returns
    -------
    LayerStack
        silicon (r_below = TIM1) -> spreader (r_below = TIM2) -> sink.

    Notes
    -----
    R''_pkg = t_Si/k_Si + t_TIM/k_TIM + t_Cu/k_Cu + R''_TIM2, with the defaults
    14.0 = 1.154 + 5.000 + 2.500 + 5.346 K mm2/W. Below 8.654 K mm2/W (the low end of
    the constant's range is 8) TIM2 is 0 and TIM1 takes the rest; below silicon + copper
    (3.654) no stack matches and ValueError is raised.

    References
    ----------
    W. Huang et al., "HotSpot: a compact thermal modeling methodology for early-stage VLSI
    design", IEEE TVLSI 14(5) 501-513, 2006 (compact layer model, default material
    constants).
    """
    si = Layer("silicon", die_thickness_mm, k_silicon_w_per_mk, sublayers=die_sublayers)
    tim1 = tim_thickness_mm * MM / k_tim_w_per_mk / K_MM2_PER_W
    spreader = Layer(
        "spreader", spreader_thickness_mm, k_spreader_w_per_mk, sublayers=spreader_sublayers
    )
    fixed = si.conduction_k_mm2_per_w + spreader.conduction_k_mm2_per_w
    if r_package_k_mm2_per_w < fixed - 1e-9:
        raise ValueError(
            f"r_package_k_mm2_per_w = {r_package_k_mm2_per_w} is below silicon + spreader "
            f"conduction = {fixed:.3f} K mm2/W"
        )
    tim2 = r_package_k_mm2_per_w - fixed - tim1
    if tim2 < 0.0:  # a better TIM1 than HotSpot's default: no TIM2
        tim1, tim2 = tim1 + tim2, 0.0
    return LayerStack(
        (
            replace(si, r_below_k_mm2_per_w=tim1),
            replace(spreader, r_below_k_mm2_per_w=tim2),
            Layer("sink", sink_thickness_mm, k_sink_w_per_mk, vertical_resistance=False),
        )
    )
