"""The chain's fingerprint: 20,000 seeded random designs x one workload of each kind.

``scripts/chain_snapshot.py`` draws the designs (every chip key: lumped and grid thermal,
chiplets, harvesting, single chips and ``system = "auto"``) and stores the SHA-256 of every
metric column in ``tests/data/chain_snapshot.json``, with each float column's sum and
absolute sum. A restructure of the chain must keep every byte (on one machine: numpy's
vectorised exp/log differ in the last bit between CPUs, so here a float column whose bytes
differ passes when its sums agree to 1e-9); a deliberate physics change refreshes the file (``--write``) in the same commit,
so the diff of the JSON shows which metrics moved and how their P10/P50/P90 changed.
"""

from __future__ import annotations

import json

from conftest import ROOT, load_module


def _script():
    return load_module(ROOT / "scripts" / "chain_snapshot.py")


def test_chain_matches_its_stored_fingerprint():
    snap = _script()
    stored = json.loads(snap.SNAPSHOT.read_text())
    now = snap.fingerprint(snap.evaluate_all())
    assert set(now["workloads"]) == set(stored["workloads"])
    changed = [
        f"{wl}: {col}"
        for wl, entry in now["workloads"].items()
        for col, digest in entry["digest"].items()
        if stored["workloads"][wl]["digest"].get(col) != digest
        # another CPU's last bits: the same numbers to 1e-9 in sum and absolute sum
        and not snap.same_to_tolerance(stored, now, wl, col)
    ]
    missing = [
        f"{wl}: {col}"
        for wl, entry in stored["workloads"].items()
        for col in entry["digest"]
        if col not in now["workloads"][wl]["digest"]
    ]
    assert not changed and not missing, (
        "the chain's numbers moved; if deliberate, run `python scripts/chain_snapshot.py --write` "
        f"and commit the new fingerprint. Changed: {changed[:8]} missing: {missing[:8]}"
    )


def test_snapshot_designs_cover_every_branch_of_the_chain():
    snap = _script()
    d = snap.random_designs()
    assert (d["thermal_model"] == "grid").sum() > 300
    assert (d["system"] == "auto").sum() > 5000
    assert (d["dies"] > 1).any() and (d["spare_cores"] > 0).any()
    stored = json.loads(snap.SNAPSHOT.read_text())
    decode = stored["workloads"]["llm-decode:llama-3-70b:batch=8,context=2048"]["summary"]
    assert decode["system_chips"][2] > 1  # systems of several chips are exercised
