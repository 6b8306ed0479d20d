"""Every public function of the physics (dse/model/) has a numpy docstring with units.

STYLE.md "The physics": numpydoc sections, the unit in brackets after each parameter
(``power_w : numeric`` / ``Total chip power [W].``), ``[-]`` for a dimensionless number.
The docstrings are parsed with numpydoc's own parser, so a section it would not find
(wrong underline, misspelt heading) fails here too. ruff's pydocstyle rules (numpy
convention, pyproject.toml) check the layout; this test checks the content.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest
from numpydoc.docscrape import FunctionDoc

import dse.model

# Modules not (yet) converted to numpy docstrings with units; empty since issue 14 item 6.
NOT_YET: set[str] = set()

# A unit: a bracketed token with no comma (so an interval such as "[0, 1]" is not one),
# e.g. [W], [degC], [1/K], [mm^2], [USD/wafer], [-].
UNIT = re.compile(r"\[[^\],\[]+\]")

# Parameters that are not physical quantities carry no unit: names of table rows, flags,
# tables of constants and records, a choice among named options ({"3d", "2.5d"}). They
# are recognised by their documented type.
NON_QUANTITY_TYPES = re.compile(
    r"^(str|bool|mapping|dict|callable|sequence of str|technology|linkspec|systemsize|collectives"
    r"|layerstack|floorplan|sequence of floorplan|gridresult|batchgridresult|\{)|\bof bool\b",
    re.IGNORECASE,
)


def _modules():
    names = []
    # walk_packages also finds the modules of a subpackage (dse.model.thermal_grid.stack)
    for info in pkgutil.walk_packages(dse.model.__path__, prefix="dse.model."):
        name = info.name
        if name not in NOT_YET and not name.rsplit(".", 1)[1].startswith("_"):
            names.append(name)
    return sorted(names)


def _public_functions():
    out = []
    for modname in _modules():
        module = importlib.import_module(modname)
        for name, obj in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(obj):
                continue
            if obj.__module__ != modname:  # imported from elsewhere
                continue
            out.append(pytest.param(obj, id=f"{modname.removeprefix('dse.model.')}.{name}"))
    return out


FUNCTIONS = _public_functions()


def test_the_physics_modules_are_found():
    # Guards against the discovery silently finding nothing (e.g. after a move).
    modules = _modules()
    assert "dse.model.area" in modules and "dse.model.reliability" in modules
    assert "dse.model.floorplan" in modules and "dse.model.thermal_grid.sparse" in modules
    assert len(FUNCTIONS) >= 60


def _signature_params(func):
    params = []
    for p in inspect.signature(func).parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            params.append("*" + p.name)
        elif p.kind is p.VAR_KEYWORD:
            params.append("**" + p.name)
        else:
            params.append(p.name)
    return params


def _documented_names(entry_name):
    # numpydoc keeps "a, b : type" as one entry; split it.
    return [n.strip() for n in entry_name.split(",") if n.strip()]


def _needs_unit(entry):
    return not NON_QUANTITY_TYPES.search(entry.type.strip())


@pytest.mark.parametrize("func", FUNCTIONS)
def test_parameters_documented_with_units(func):
    doc = FunctionDoc(func)
    params = _signature_params(func)
    documented = {}
    for entry in doc["Parameters"] + doc["Other Parameters"]:
        for name in _documented_names(entry.name):
            documented[name] = entry
    if params:
        assert doc["Parameters"], f"{func.__qualname__}: no Parameters section"
    missing = [p for p in params if p not in documented]
    assert not missing, f"{func.__qualname__}: undocumented parameters {missing}"
    extra = [n for n in documented if n not in params]
    assert not extra, f"{func.__qualname__}: documented but not in the signature {extra}"
    no_unit = [
        name
        for name, entry in documented.items()
        if _needs_unit(entry) and not UNIT.search(" ".join(entry.desc))
    ]
    assert not no_unit, f"{func.__qualname__}: parameters without a [unit]: {no_unit}"


@pytest.mark.parametrize("func", FUNCTIONS)
def test_returns_documented_with_units(func):
    doc = FunctionDoc(func)
    returns = doc["Returns"] + doc["Yields"]
    assert returns, f"{func.__qualname__}: no Returns section"
    no_unit = [
        entry.name or entry.type
        for entry in returns
        if _needs_unit(entry) and not UNIT.search(" ".join(entry.desc))
    ]
    assert not no_unit, f"{func.__qualname__}: returns without a [unit]: {no_unit}"


def test_the_check_catches_a_missing_unit():
    # The checker itself: a docstring without units or sections is refused.
    def bad(power_w):
        """Do something.

        Parameters
        ----------
        power_w : numeric
            Total chip power.

        Returns
        -------
        numeric
            Something [W].
        """

    def no_returns(power_w):
        """Do something.

        Parameters
        ----------
        power_w : numeric
            Total chip power [W].
        """

    with pytest.raises(AssertionError, match="without a"):
        test_parameters_documented_with_units(bad)
    with pytest.raises(AssertionError, match="no Returns"):
        test_returns_documented_with_units(no_returns)
    assert not UNIT.search("a fraction in [0, 1]")
    assert UNIT.search("Total chip power [W].")
