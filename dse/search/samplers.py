"""The samplers a study can use (``nsga2``, ``tpe``, ``gp``, ``random``, ``local``) and their options: the project's NSGA-II operators and how many trials a batch asks at once."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

from dse.errors import DseInputError, close_match_hint
from dse.search import optuna_private
from dse.search.local import local_search_sampler
from dse.search.study import SAMPLERS, StudyConfig

#: NSGA-II defaults, tuned with benchmarks/search_quality.py on the domestic decode study
#: (1,000 trials; hypervolume fraction of the exact front, mean [min] over seeds):
#: population 30 + BLX-alpha crossover 98.7 % [96.8] on seeds 0-11, 97.3 % [88.0] on
#: seeds 20-25 (one seed never found the capped HBM2E region); optuna's defaults
#: (50, uniform) 98.2 % [97.4] on seeds 20-25; 40 or 50 + BLX-alpha, polynomial mutation
#: and higher mutation rates were not better. No setting reached 99 % on every seed.
DEFAULT_NSGA2_OPTIONS: dict[str, Any] = {"population_size": 30, "crossover": "blxalpha"}


#: trials asked per round for the other samplers (NSGA-II: one generation)
_BATCH = {"tpe": 8, "gp": 4, "random": 256, "local": 8}


def _crossover(name: str) -> Any:
    from optuna.samplers import nsgaii

    table = {
        "uniform": nsgaii.UniformCrossover,
        "blxalpha": nsgaii.BLXAlphaCrossover,
        "sbx": nsgaii.SBXCrossover,
        "vsbx": nsgaii.VSBXCrossover,
        "spx": nsgaii.SPXCrossover,
        "undx": nsgaii.UNDXCrossover,
    }
    key = name.lower()
    if key not in table:
        raise DseInputError(
            f"unknown NSGA-II crossover '{name}'"
            + close_match_hint(key, table)
            + f"; known: {', '.join(table)}"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return table[key]()


def _mutation(text: str) -> Any:
    """``"polynomial"`` or ``"polynomial:ETA"`` -> optuna's PolynomialMutation."""
    from optuna.samplers.nsgaii import PolynomialMutation

    name, _, eta = text.partition(":")
    if name.strip().lower() != "polynomial":
        raise DseInputError(
            f'unknown NSGA-II mutation \'{text}\': use "polynomial" or "polynomial:ETA"'
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return PolynomialMutation(eta=float(eta)) if eta else PolynomialMutation()
    except ValueError:
        raise DseInputError(f"NSGA-II mutation '{text}': ETA must be a number >= 0") from None


#: the sampler class of "nsga2" (a name here so that tests can swap in optuna's own)
_fast_nsga2_class = optuna_private.fast_nsga2_class


def make_sampler(
    name: str,
    *,
    seed: int | None,
    constraints_func: Callable[[Any], Sequence[float]] | None = None,
    options: dict[str, Any] | None = None,
    design_check: Callable[[list[dict[str, Any]]], Any] | None = None,
) -> Any:
    """Build a seeded optuna sampler by name.

    Parameters
    ----------
    name : str
        ``"local"`` (the default of studies: Pareto local search with a
        surrogate-guided start, :func:`dse.search.local.local_search_sampler`), ``"nsga2"``
        (:data:`DEFAULT_NSGA2_OPTIONS`), ``"tpe"`` (multivariate, constant liar for
        batches), ``"gp"`` or ``"random"``.
    seed : int or None
        Sampler seed.
    constraints_func : callable, optional
        optuna's ``constraints_func`` (ignored by the random sampler).
    options : dict, optional
        Extra keyword arguments of the sampler class; for NSGA-II ``crossover`` may be
        a name (``uniform``, ``sbx``, ``blxalpha``, ``vsbx``, ``spx``, ``undx``) and
        ``mutation`` ``"polynomial"`` or ``"polynomial:ETA"``.
    design_check : callable, optional
        For ``"local"``: which designs (parameter dicts) break a limit their keys decide
        without running the workload; those are never proposed (the other samplers ignore it).

    Returns
    -------
    optuna.samplers.BaseSampler
    """
    import inspect

    import optuna

    options = dict(options or {})
    if name == "nsga2":
        cls = _fast_nsga2_class()
        kwargs: dict[str, Any] = {"constraints_func": constraints_func}
        options = {**DEFAULT_NSGA2_OPTIONS, **options}
        if isinstance(options.get("crossover"), str):
            options["crossover"] = _crossover(options["crossover"])
        if isinstance(options.get("mutation"), str):
            options["mutation"] = _mutation(options["mutation"])
    elif name == "tpe":
        cls = optuna.samplers.TPESampler
        kwargs = {"multivariate": True, "constant_liar": True, "constraints_func": constraints_func}
    elif name == "gp":
        import importlib.util

        if importlib.util.find_spec("torch") is None:
            raise DseInputError(
                "sampler gp needs PyTorch, which is not installed: pip install torch"
            )
        cls = optuna.samplers.GPSampler
        kwargs = {"constraints_func": constraints_func}
    elif name == "random":
        cls = optuna.samplers.RandomSampler
        kwargs = {}
    elif name == "local":
        cls = local_search_sampler
        kwargs = {"constraints_func": constraints_func, "design_check": design_check}
    else:
        raise DseInputError(
            f"unknown sampler '{name}'"
            + close_match_hint(name, SAMPLERS)
            + f"; known: {', '.join(SAMPLERS)}"
        )
    allowed = [
        p
        for p in inspect.signature(cls).parameters
        if p not in ("self", "seed", "constraints_func", "design_check")
    ]
    for key in options:
        if key not in allowed:
            raise DseInputError(
                f"unknown option '{key}' of sampler {name}"
                + close_match_hint(key, allowed)
                + f"; known: {', '.join(allowed)}"
            )
    kwargs.update(options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return cls(seed=seed, **kwargs)
        except (TypeError, ValueError) as exc:
            raise DseInputError(f"sampler {name}: {str(exc).splitlines()[0]}") from None


def _options(study: StudyConfig, sampler: str) -> dict[str, Any]:
    """The study's ``sampler_options`` when ``sampler`` is the study's own sampler, else {}."""
    return dict(study.sampler_options) if sampler == study.sampler else {}


def _batch_size(study: StudyConfig, sampler: str) -> int:
    if sampler == "nsga2":
        return int(
            _options(study, sampler).get(
                "population_size", DEFAULT_NSGA2_OPTIONS["population_size"]
            )
        )
    return _BATCH[sampler]
