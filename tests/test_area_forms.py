"""The forms of scripts/area_forms.py (issue 12's GC2 miss): what each one changes."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from dse.analysis.fidelity import die_area_table, load_reference_dies
from dse.constants import default_constants
from dse.tech import default_tech
from tests.conftest import load_module

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


@pytest.fixture(scope="module")
def forms():
    sys.path.insert(0, str(SCRIPTS))
    try:
        yield load_module(SCRIPTS / "area_forms.py")
    finally:
        sys.path.remove(str(SCRIPTS))


@pytest.fixture(scope="module")
def dies():
    d = load_reference_dies()
    keys = ["nvidia-gp100", "nvidia-gh100", "graphcore-colossus-mk1", "graphcore-colossus-mk2"]
    return d[d["key"].isin(keys)].set_index("key").loc[keys].reset_index()


def _areas(dies, c=None):
    return die_area_table(constants=c or default_constants(), dies=dies)["model"].to_numpy()


def test_the_shipped_form_is_the_chain_bit_for_bit(forms, dies):
    before = _areas(dies)
    with forms.Form("shipped").patched():
        inside = _areas(dies)
    np.testing.assert_array_equal(inside, before)
    np.testing.assert_array_equal(_areas(dies), before)  # the patch is undone


def test_a_density_exponent_shrinks_the_sparse_nodes_and_keeps_the_reference(forms, dies):
    before = _areas(dies)
    with forms.Form("k", k=0.2).patched():
        after = _areas(dies)
    gp100, gh100, gc2, gc200 = after / before
    assert gh100 == pytest.approx(1.0, rel=1e-12)  # N4 is the reference density
    assert gp100 < gc200 < 1.0 and gc2 < gc200  # N16 shrinks more than N7, N7 than N4
    # the ratio GC2 / GC200 the table of docs/area.md is about falls
    assert after[2] / after[3] < before[2] / before[3]


def test_a_port_adds_its_transistors_on_every_core(forms, dies):
    c = default_constants()
    form = forms.Form("port", port=True)
    form.port_transistors = 1.0e6
    before = _areas(dies)
    with form.patched():
        after = _areas(dies)
    nodes = default_tech().nodes.frame
    density = nodes.loc[dies["node"], "logic_density_mtr_mm2"].to_numpy(float) * c["logic_derate"]
    # die area = tiles x (1 + uncore fraction) + the rest: the port's logic inside the tiles
    expect = dies["cores"].to_numpy(float) * 1.0e6 / (density * 1e6) * (1 + c["uncore_fraction"])
    np.testing.assert_allclose(after - before, expect, rtol=1e-9)


def test_the_transistor_counts_ask_for_a_positive_density_exponent(forms):
    k_gpu, k_graphcore = forms.density_slope(load_reference_dies(), default_tech().nodes.frame)
    # the denser the node, the smaller the share of its quoted density a die reaches
    assert 0.0 < k_gpu < k_graphcore < 0.5


def test_the_tile_block_is_area_blocks_own(forms):
    c = default_constants()
    blocks = forms.TILE_BLOCK
    row = int(np.flatnonzero(blocks.frame["key"] == "graphcore-gc200-tile-logic")[0])
    assert blocks.value[row] == pytest.approx(0.1398)  # reference_blocks.csv
    assert forms.Form("shipped").tile_block_error(c) == pytest.approx(
        blocks.model(c)[row] / 0.1398 - 1.0, rel=1e-12
    )
    shipped = forms.Form.tile_block_error(c)
    with forms.Form("k", k=0.2).patched():  # the block is drawn at the form's density
        k02 = forms.Form.tile_block_error(c)
    n7_over_n4 = float(default_tech().nodes.frame.loc["tsmc-n7", "logic_density_mtr_mm2"]) / 163.7
    assert (1 + k02) == pytest.approx((1 + shipped) * n7_over_n4**0.2, rel=1e-12)
