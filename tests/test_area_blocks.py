"""Published block areas, the third observable of the area model (issue 12)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dse.analysis.fidelity import die_area_table, load_reference_dies
from dse.constants import default_constants
from dse.errors import DseInputError
from tests.conftest import load_module

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


@pytest.fixture(scope="module")
def scripts():
    import sys

    sys.path.insert(0, str(SCRIPTS))
    try:
        yield load_module(SCRIPTS / "area_transistors.py"), load_module(SCRIPTS / "area_blocks.py")
    finally:
        sys.path.remove(str(SCRIPTS))


def test_blocks_are_sourced_dated_and_never_from_a_held_out_die(scripts):
    _, blocks_mod = scripts
    blocks = blocks_mod.load_blocks()
    assert len(blocks) >= 6 and blocks["key"].is_unique
    assert (blocks["source"].str.len() > 40).all() and blocks["date"].str.match(
        r"^\d{4}-\d{2}$"
    ).all()
    assert (blocks["value"] > 0).all()
    # the rule of the fit: no block of a held-out die is fitted
    dies = load_reference_dies().set_index("key")
    fitted = blocks[(blocks["use"] == "fit") & blocks["die_key"].notna()]
    assert not (dies.loc[fitted["die_key"], "role"] == "held-out").any()
    # a floorplan share cannot exceed its die: the TPU v1 blocks sum below its < 331 mm2
    tpu = blocks[blocks["key"].str.startswith("google-tpu-v1-")]
    assert tpu["value"].sum() < 331.0


def test_a_bad_block_table_is_one_clear_line(scripts, tmp_path):
    _, blocks_mod = scripts
    good = pd.read_csv(blocks_mod.BLOCKS_CSV, dtype=str, keep_default_na=False)
    path = tmp_path / "blocks.csv"
    for col, value, match in (
        ("bound", "about", "bound must be one of"),
        ("node", "tsmc-n1.5", "unknown node"),
        ("source", "", "needs a source"),
    ):
        bad = good.copy()
        bad.loc[0, col] = value
        bad.to_csv(path, index=False)
        with pytest.raises(DseInputError, match=match) as exc:
            blocks_mod.load_blocks(path)
        assert "\n" not in str(exc.value)


def test_the_scripts_area_model_is_the_chains(scripts):
    # scripts/area_transistors.py and area_blocks.py rebuild the die area from
    # dse.model.area; with the shipped constants they must give what dse validate prints
    tr_mod, blocks_mod = scripts
    c = default_constants()
    dies = tr_mod.Dies(c)
    p = {n: float(c[n]) for n in c.table.index}
    shipped = die_area_table(constants=c)["model"].to_numpy()
    assert np.allclose(dies.model(p)[0], shipped, rtol=1e-12)
    same = dict(
        p,
        sm_control_transistors=p["core_control_transistors"],
        sm_transistors_per_lane=p["core_transistors_per_lane"],
    )
    a, _ = blocks_mod.die_model(dies, same, True)
    assert np.allclose(a, shipped, rtol=1e-12)


def test_a_core_block_grows_with_its_macs_lanes_and_sram(scripts):
    _, blocks_mod = scripts
    c = default_constants()
    p = {n: float(c[n]) for n in c.table.index}
    frame = blocks_mod.load_blocks()
    frame = frame[frame["bound"] != "ratio"]  # areas only (the ratio row is a check)
    base = blocks_mod.Blocks(frame).model(p)
    for col in ("macs", "vector_lanes", "sram_mb"):
        more = frame.copy()
        more[col] = more[col].astype(float) * 2 + 1
        grown = blocks_mod.Blocks(more).model(p)
        assert np.all(grown >= base - 1e-15) and np.any(grown > base), col
