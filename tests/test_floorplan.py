"""Floorplan generator: exact area conservation, no overlaps, determinism, placement rules."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dse.model.floorplan import (
    BLOCK_KINDS,
    Block,
    Floorplan,
    build_floorplan,
    floorplan_layout,
)

# an H100-like breakdown (area model of dse.model.area): core logic, SRAM, 5 HBM PHYs, uncore
H100ISH = dict(core_area_mm2=420.0, sram_area_mm2=160.0, phy_area_mm2=75.0, uncore_area_mm2=100.0)


def _check_valid(fp: Floorplan, areas: dict[str, float], cores: int, memory_count: int) -> None:
    total = sum(areas.values())
    # the die area is the sum of the parts (the area model's die area), to rounding
    assert fp.area_mm2 == pytest.approx(total, rel=1e-12)
    by_kind = fp.area_by_kind_mm2()
    for kind, key in (
        ("core", "core_area_mm2"),
        ("sram", "sram_area_mm2"),
        ("phy", "phy_area_mm2"),
        ("uncore", "uncore_area_mm2"),
    ):
        assert by_kind[kind] == pytest.approx(areas[key], rel=1e-12, abs=1e-12 * total)
    # blocks tile the die: no overlap, inside the die, sum of areas = die area
    assert fp.overlap_area_mm2() <= 1e-9 * total
    r = fp.rectangles_mm()
    tol = 1e-9 * math.sqrt(total)
    assert (r[:, 0] >= -tol).all() and (r[:, 1] >= -tol).all()
    assert (r[:, 2] <= fp.width_mm + tol).all() and (r[:, 3] <= fp.height_mm + tol).all()
    assert sum(b.area_mm2 for b in fp) == pytest.approx(fp.area_mm2, rel=1e-12)
    assert len(fp.blocks_of("core")) == cores
    assert len(fp.blocks_of("phy")) == (memory_count if areas["phy_area_mm2"] > 0 else 0)


@pytest.mark.parametrize("layout", ["interleaved", "banked"])
@pytest.mark.parametrize("aspect", [1.0, 1.6, 0.5])
@pytest.mark.parametrize("cores,memory_count", [(1, 1), (7, 5), (132, 6), (64, 0)])
def test_areas_conserved_and_no_overlap(layout, aspect, cores, memory_count):
    areas = dict(H100ISH)
    if memory_count == 0:
        areas["phy_area_mm2"] = 0.0
    fp = build_floorplan(
        **areas, cores=cores, memory_count=memory_count, aspect=aspect, sram_layout=layout
    )
    _check_valid(fp, areas, cores, memory_count)
    assert fp.width_mm / fp.height_mm == pytest.approx(aspect, rel=1e-12)


@settings(max_examples=150, deadline=None)
@given(
    core=st.floats(1.0, 800.0),
    sram=st.one_of(st.just(0.0), st.floats(1e-3, 600.0)),
    phy=st.one_of(st.just(0.0), st.floats(1e-3, 120.0)),
    uncore=st.one_of(st.just(0.0), st.floats(1e-3, 150.0)),
    cores=st.integers(1, 400),
    memory_count=st.integers(1, 12),
    aspect=st.floats(0.25, 4.0),
    layout=st.sampled_from(["interleaved", "banked"]),
)
def test_property_any_breakdown_tiles_the_die(
    core, sram, phy, uncore, cores, memory_count, aspect, layout
):
    areas = dict(core_area_mm2=core, sram_area_mm2=sram, phy_area_mm2=phy, uncore_area_mm2=uncore)
    fp = build_floorplan(
        **areas, cores=cores, memory_count=memory_count, aspect=aspect, sram_layout=layout
    )
    _check_valid(fp, areas, cores, memory_count)
    assert all(b.w_mm > 0 and b.h_mm > 0 for b in fp)


def test_deterministic_and_layout_matches_blocks():
    a = build_floorplan(**H100ISH, cores=132, memory_count=5)
    b = build_floorplan(**H100ISH, cores=132, memory_count=5)
    assert a == b
    lay = floorplan_layout(**H100ISH, cores=132, memory_count=5)
    assert lay.to_floorplan() == a
    assert lay.names == tuple(blk.name for blk in a)


def test_core_tiles_have_equal_area():
    # every tile (core logic + its SRAM slice) has the same area, also for prime counts
    for cores in (5, 13, 132):
        fp = build_floorplan(**H100ISH, cores=cores, memory_count=6)
        core = np.array([b.area_mm2 for b in fp.blocks_of("core")])
        sram = np.array([b.area_mm2 for b in fp.blocks_of("sram")])
        np.testing.assert_allclose(core, H100ISH["core_area_mm2"] / cores, rtol=1e-12)
        np.testing.assert_allclose(sram, H100ISH["sram_area_mm2"] / cores, rtol=1e-12)


def test_tiles_are_close_to_square():
    fp = build_floorplan(**H100ISH, cores=144, memory_count=6, sram_layout="banked")
    ratios = [max(b.w_mm / b.h_mm, b.h_mm / b.w_mm) for b in fp.blocks_of("core")]
    assert max(ratios) < 2.0


def test_phys_on_the_two_long_edges():
    # HBM style: ceil(m/2) PHYs on the bottom edge, floor(m/2) on the top (long) edge
    fp = build_floorplan(**H100ISH, cores=16, memory_count=5, aspect=1.5)
    phys = fp.blocks_of("phy")
    bottom = [b for b in phys if b.y0_mm == 0.0]
    top = [b for b in phys if b.y1_mm == pytest.approx(fp.height_mm)]
    assert len(bottom) == 3 and len(top) == 2
    assert sum(b.w_mm for b in bottom) == pytest.approx(fp.width_mm)
    # a tall die puts them on the left and right edges instead
    tall = build_floorplan(**H100ISH, cores=16, memory_count=4, aspect=1 / 1.5)
    xs = sorted({round(b.x0_mm, 9) for b in tall.blocks_of("phy")})
    assert xs[0] == 0.0 and tall.blocks_of("phy")[-1].x1_mm == pytest.approx(tall.width_mm)


def test_banked_sram_sits_beside_the_core_array():
    fp = build_floorplan(**H100ISH, cores=16, memory_count=6, sram_layout="banked")
    banks = fp.blocks_of("sram")
    assert [b.name for b in banks] == ["sram_bank0", "sram_bank1"]
    cores_x0 = min(b.x0_mm for b in fp.blocks_of("core"))
    cores_x1 = max(b.x1_mm for b in fp.blocks_of("core"))
    assert banks[0].x1_mm == pytest.approx(cores_x0)
    assert banks[1].x0_mm == pytest.approx(cores_x1)
    assert banks[1].x1_mm == pytest.approx(fp.width_mm)


def test_uncore_strip_on_the_left_edge():
    fp = build_floorplan(**H100ISH, cores=16, memory_count=6)
    u = fp.block("uncore")
    assert u.x0_mm == 0.0
    assert u.area_mm2 == pytest.approx(H100ISH["uncore_area_mm2"])


def test_transposed_swaps_axes():
    fp = build_floorplan(**H100ISH, cores=8, memory_count=4, aspect=2.0)
    t = fp.transposed()
    assert (t.width_mm, t.height_mm) == (fp.height_mm, fp.width_mm)
    assert t.transposed() == fp


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(core_area_mm2=0.0),
        dict(sram_area_mm2=-1.0),
        dict(phy_area_mm2=math.nan),
        dict(cores=0),
        dict(cores=2.5),
        dict(memory_count=-1),
        dict(memory_count=0),  # PHY area without PHYs
        dict(aspect=0.0),
        dict(sram_layout="scattered"),
    ],
)
def test_invalid_inputs_raise_value_error(kwargs):
    args = dict(**H100ISH, cores=4, memory_count=4)
    args.update(kwargs)
    with pytest.raises(ValueError):
        build_floorplan(**args)


def test_block_and_floorplan_validation():
    with pytest.raises(ValueError):
        Block("x", "dram", 0, 0, 1, 1)
    with pytest.raises(ValueError):
        Block("x", "core", 0, 0, 0, 1)
    with pytest.raises(ValueError):
        Floorplan(2, 2, (Block("a", "core", 0, 0, 1, 1), Block("a", "sram", 1, 0, 1, 1)))
    assert set(Floorplan(1, 1).area_by_kind_mm2()) == set(BLOCK_KINDS)
