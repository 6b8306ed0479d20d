"""Render the contract tables of the docs from the code's own declarations.

The chip keys (:data:`dse.spec.CHIP_KEYS`), the metrics (:data:`dse.metrics.METRICS`),
the workload kinds and options (:mod:`dse.workloads`), the study-file keys
(:mod:`dse.search.study`), the command line (:func:`dse.cli.build_parser`) and the public names
(``dse.__all__``) are declared once in the package. This script renders them into the
marked sections of ``docs/contract.md`` and ``docs/api.md``::

    <!-- BEGIN GENERATED: chip-keys (scripts/gen_contract_docs.py) -->
    ...
    <!-- END GENERATED: chip-keys -->

Usage::

    python scripts/gen_contract_docs.py           # rewrite the generated sections
    python scripts/gen_contract_docs.py --check   # exit 1 if a section is not current

``tests/test_docs.py`` runs the check. The descriptions of the study-file keys and of the
workload kinds live here (the code declares their names, not prose); a key declared in
the code without a description here, or a description of a key the code no longer
declares, is an error.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import re
import sys
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

import dse  # noqa: E402
from dse import cli, workloads  # noqa: E402
from dse.chain import Metrics  # noqa: E402
from dse.metrics import METRICS, column_name  # noqa: E402
from dse.search import scenario, space, study  # noqa: E402
from dse.spec import CHIP_KEYS, FILE_ONLY_KEYS  # noqa: E402

CONTRACT = ROOT / "docs" / "contract.md"
API = ROOT / "docs" / "api.md"

_UNIT_DISPLAY = {"degC": "°C", "us": "µs", "mm2": "mm²"}

# --- prose for names the code declares without a description ---------------------------

TOP_LEVEL_TABLES = {
    "study": "name, workload, objectives and search settings",
    "fixed": "chip keys held constant (one value each)",
    "space": "chip keys searched: a list is categorical, a table `{low, high, step, log}` is a range; `[space.when.<key>.<choice>]` sub-tables give ranges that depend on a choice",
    "constraints": "limits a feasible design meets",
}

STUDY_KEYS = {
    "name": (
        "the file name without `.toml`",
        "names the output folder `results/<name>/` and the optuna study",
    ),
    "description": ("empty", "one line of text, carried into `summary.md` and the CSV metadata"),
    "workload": (
        "**required**",
        "one workload string (see [Workload strings](#workload-strings)); a model path is taken from the study file's folder",
    ),
    "objectives": (
        "**required**",
        'table metric = `"minimize"` or `"maximize"`, any numeric metric',
    ),
    "trials": (f"`{study.DEFAULT_TRIALS}`", "default budget of `dse run` (`--trials` overrides)"),
    "seed": (f"`{study.DEFAULT_SEED}`", "sampler seed (`--seed` overrides)"),
    "sampler": (
        f"`{study.DEFAULT_SAMPLER}`",
        "one of " + ", ".join(f"`{s}`" for s in study.SAMPLERS) + " (`--sampler` overrides)",
    ),
    "sampler_options": (
        "none",
        "table of keyword arguments of the sampler, e.g. `p_boundary = 0.5` (local) or `population_size = 64` (nsga2)",
    ),
    "scenario": ("none", "a packaged fab scenario (`dse/data/scenarios/*.toml`) or a path to one"),
    "tech": (
        "none",
        "a technology file (CSV or TOML) of user nodes and memories, relative to the study file",
    ),
}

RANGE_KEYS = {
    "low": "lower bound (inclusive)",
    "high": "upper bound (inclusive)",
    "step": "grid step: makes the range enumerable by `dse grid`; `high - low` must be a whole number of steps",
    "log": "`true`: sample on a log scale (no `step`)",
}

LIST_CONSTRAINTS = {
    "export_class": 'allowed ECCN 3A090 classes, e.g. `["3A090.b", "not-controlled"]` (one of '
    + ", ".join(f"`{c}`" for c in scenario.EXPORT_CLASSES)
    + ")",
    "nodes_allowed": "node ids a design may use (intersected with the scenario's)",
    "memory_allowed": "memory ids a design may use (intersected with the scenario's)",
}

SCENARIO_KEYS = {
    "name": "scenario name",
    "description": "what the scenario stands for",
    "source": "its reasoning and sources",
    "nodes_allowed": "node ids a design may use",
    "memory_allowed": "memory ids a design may use",
    "export_class": "allowed ECCN 3A090 classes",
    "memory_count_max": "table memory = largest unit count, e.g. `{ hbm2e = 4 }`",
    "min_lifetime_years": "a service life the designs must reach (the stricter of scenario and study holds)",
    "max_memory_temp_c": "a memory temperature limit (the stricter of scenario and study holds)",
    "grid_gco2_per_kwh": "carbon intensity of the grid the chips run on: the chip key grid_gco2_per_kwh of a study that neither fixes nor searches it",
}

WORKLOAD_FORMS = {
    "gemm": ("gemm:M,N,K", "one M×K by K×N GEMM"),
    "llm-decode": (
        "llm-decode:MODEL:batch=B,context=L",
        "one decode step of B sequences with L tokens of context (B tokens)",
    ),
    "llm-prefill": (
        "llm-prefill:MODEL:batch=B,seq=S",
        "the prefill of B prompts of S tokens (B·S tokens)",
    ),
    "llm-serve": (
        "llm-serve:MODEL:prompt=P,output=O,ttft_ms=T,tpot_ms=U[,chunk=C]",
        f"serving at latency targets: one iteration of continuous batching with chunked prefill (token budget C, default {workloads.DEFAULT_CHUNK_TOKENS:,}) at the largest batch that meets them (see [Serving](serving.md))",
    ),
    "resnet50": ("resnet50:batch=B", "B images through ResNet-50 v1.5"),
}

CLI_ORDER = ("evaluate", "compare", "run", "grid", "report", "validate", "nodes", "memories")


# --- helpers ---------------------------------------------------------------------------


def _num(v: float) -> str:
    text = f"{v:g}"
    return text.replace("e+0", "e").replace("e+", "e")


def _unit(unit: str) -> str:
    return _UNIT_DISPLAY.get(unit, unit) if unit else "–"


def _check_described(what: str, declared, described) -> None:
    missing = [k for k in declared if k not in described]
    stale = [k for k in described if k not in declared]
    if missing or stale:
        raise SystemExit(
            f"gen_contract_docs: {what}: declared in the code without a description here: "
            f"{missing or 'none'}; described here but not declared: {stale or 'none'}"
        )


def _cell(text: str) -> str:
    """Plain text from a declaration, safe in a table cell (no raw HTML, no column break)."""
    return text.replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def _table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


# --- sections --------------------------------------------------------------------------


def chip_keys() -> str:
    rows = []
    for k, s in CHIP_KEYS.items():
        if s.required:
            default = "**required**"
        elif s.default is None:
            default = "derived"
        elif isinstance(s.default, str):
            default = f"`{s.default}`"
        else:
            default = f"`{s.default!r}`"
        if s.type == "node":
            allowed = "id or alias from `dse nodes`"
        elif s.type == "memory":
            allowed = "id from `dse memories`, or `none`"
        elif s.type == "choice":
            allowed = " / ".join(f"`{c}`" for c in s.choices)
        elif s.type == "str":
            allowed = "text"
        else:
            parts = ["integer"] if s.type == "int" else ["number"]
            if s.low is not None:
                parts.append(("> " if s.low_exclusive else "≥ ") + _num(s.low))
            if s.high is not None:
                parts.append("≤ " + _num(s.high))
            allowed = parts[0] + (" " + ", ".join(parts[1:]) if len(parts) > 1 else "")
        rows.append([f"`{k}`", _unit(s.unit), default, allowed, _cell(s.description)])
    text = _table(["key", "unit", "default", "allowed", "meaning"], rows)
    files = ", ".join(f"`{k}`" for k in FILE_ONLY_KEYS)
    return (
        f"{len(CHIP_KEYS)} keys, {sum(s.required for s in CHIP_KEYS.values())} of them required.\n\n"
        + text
        + f"\n\nA chip file may also set {files}: a file, not a design key (see below)."
    )


def _when(m) -> str:
    if not m.needs_workload:
        return "always"
    if m.serve_only:
        return "`llm-serve`"
    if m.llm_only:
        return "LLM workloads"
    return "with a workload"


def metrics() -> str:
    rows = []
    for k, m in METRICS.items():
        kind = {"str": "text", "bool": "yes/no"}.get(m.kind, "")
        unit = _unit(m.unit) if not kind else kind
        better = {"min": "lower", "max": "higher"}.get(m.better, "–")
        rows.append([f"`{k}`", unit, _when(m), better, _cell(m.description)])
    return f"{len(METRICS)} metrics.\n\n" + _table(
        ["metric", "unit", "reported", "better", "meaning"], rows
    )


def json_keys() -> str:
    names = [("yield" if f.name == "yield_" else f.name) for f in fields(Metrics)]
    extra = [n for n in names if n not in METRICS]
    if extra != ["workload"] or [n for n in names if n in METRICS] != list(METRICS):
        raise SystemExit(f"gen_contract_docs: Metrics fields and METRICS disagree: {extra}")
    json_type = {"float": "number", "int": "number", "bool": "true / false", "str": "string"}
    rows = [["`name`", "string", "always", "the chip's `name`"]]
    for n in names:
        if n == "workload":
            rows.append(
                [
                    "`workload`",
                    "string",
                    "with a workload",
                    "the normalised workload string (canonical model name, dtype written out)",
                ]
            )
            continue
        m = METRICS[n]
        t = "array of strings" if n == "violations" else json_type[m.kind]
        rows.append(
            [
                f"`{n}`",
                t,
                _when(m),
                f"metric `{n}` ({_unit(m.unit)})" if m.unit else f"metric `{n}`",
            ]
        )
    rows.append(
        [
            "`reliability`",
            "array of objects",
            "with a workload",
            "one record per wear-out mechanism, as `dse.reliability_breakdown` returns (NaN written as null)",
        ]
    )
    return _table(["key", "JSON type", "present", "what"], rows)


def csv_columns() -> str:
    rows = [
        [f"`{k}`", f"`{column_name(k)}`"] for k in (*CHIP_KEYS, *METRICS) if column_name(k) != k
    ]
    return (
        "Chip keys and metrics whose name does not end in its unit get it in brackets in CSV "
        "headers, plot labels and optuna user attributes (`dse.metrics.column_name`); every "
        "other column is named as the key.\n\n" + _table(["key", "CSV column"], rows)
    )


def workload_strings() -> str:
    _check_described("workload kinds", workloads.WORKLOAD_KINDS, WORKLOAD_FORMS)
    rows = []
    for kind in workloads.WORKLOAD_KINDS:
        form, step = WORKLOAD_FORMS[kind]
        required = workloads._OPTIONS[kind]
        for opt in required:
            if f"{opt}=" not in form:
                raise SystemExit(
                    f"gen_contract_docs: option {opt!r} of {kind} missing from its form"
                )
        others = ["dtype"]
        if kind.startswith("llm"):
            others += list(workloads._LLM_PRECISION_OPTIONS)
        if kind == "llm-serve":
            others.append("chunk")
        rows.append(
            [
                f"`{form}`",
                step,
                ", ".join(f"`{o}`" for o in required) or "M, N, K",
                ", ".join(f"`{o}`" for o in others),
                f"`{workloads._EXAMPLES[kind]}`",
            ]
        )
    table = _table(["string", "one step is", "required", "optional", "example"], rows)
    prec = (
        f"Precisions: `dtype` = {' / '.join(workloads.ACT_DTYPES)} (default `{workloads.DEFAULT_DTYPE}`: "
        f"activations and MACs), `weights` = {' / '.join(workloads.WEIGHT_DTYPES)}, "
        f"`kv` = {' / '.join(workloads.KV_DTYPES)} (default: `dtype`)."
    )
    by_model: dict[str, list[str]] = {}
    for alias, name in workloads.MODEL_ALIASES.items():
        if alias != name:
            by_model.setdefault(name, []).append(f"`{alias}`")
    models = _table(
        ["model", "other accepted names", "kind", "dimensions from"],
        [
            [
                f"`{name}`",
                ", ".join(by_model.get(name, [])) or "–",
                "mixture of experts" if cfg.num_experts else "dense",
                cfg.source,
            ]
            for name, cfg in workloads.BUILTIN_MODELS.items()
        ],
    )
    return (
        table + "\n\n" + prec + "\n\nBuilt-in models (`dse.workloads.BUILTIN_MODELS`):\n\n" + models
    )


def _usage(name: str, p: argparse.ArgumentParser) -> str:
    parts = [f"dse {name}"]
    for a in p._actions:
        if isinstance(a, argparse._HelpAction):
            continue
        if not a.option_strings:
            parts.append(f"{a.dest.upper()} ..." if a.nargs == "+" else a.dest.upper())
        else:
            flag = (
                a.option_strings[-1]
                if a.option_strings[-1].startswith("--")
                else a.option_strings[0]
            )
            if a.nargs == 0:
                parts.append(f"[{flag}]")
            else:
                parts.append(f"[{flag} {a.metavar or a.dest.upper()}]")
    return " ".join(parts)


def command_line() -> str:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {c.dest: c.help for c in sub._choices_actions}
    _check_described("commands", sub.choices, CLI_ORDER)
    out = []
    for name in CLI_ORDER:
        p = sub.choices[name]
        rows = []
        for a in p._actions:
            if isinstance(a, argparse._HelpAction):
                continue
            if a.option_strings:
                arg = ", ".join(f"`{o}`" for o in a.option_strings)
                if a.nargs != 0:
                    arg += f" {a.metavar or a.dest.upper()}"
            else:
                arg = f"`{a.dest.upper()}`" + (" (one or more)" if a.nargs == "+" else "")
            if a.choices:
                arg += " (" + " / ".join(f"`{c}`" for c in a.choices) + ")"
            default = (
                "–" if a.default in (None, False) or not a.option_strings else f"`{a.default}`"
            )
            rows.append([arg, default, _cell(a.help or "")])
        out.append(
            f"### `dse {name}`\n\n{helps[name][0].upper() + helps[name][1:]}.\n\n"
            f"```text\n{_usage(name, p)}\n```\n\n"
            + _table(["argument", "default", "meaning"], rows)
        )
    return "\n\n".join(out)


def study_keys() -> str:
    _check_described("study tables", study._TOP_LEVEL, TOP_LEVEL_TABLES)
    _check_described("[study] keys", study._STUDY_KEYS, STUDY_KEYS)
    _check_described("range keys", space._RANGE_KEYS, RANGE_KEYS)
    _check_described("list constraints", scenario._LIST_CONSTRAINTS, LIST_CONSTRAINTS)
    _check_described("scenario keys", scenario._SCENARIO_KEYS, SCENARIO_KEYS)
    top = _table(["table", "holds"], [[f"`[{t}]`", d] for t, d in TOP_LEVEL_TABLES.items()])
    st = _table(
        ["key", "default", "meaning"],
        [[f"`{k}`", STUDY_KEYS[k][0], STUDY_KEYS[k][1]] for k in study._STUDY_KEYS],
    )
    rng = _table(["key", "meaning"], [[f"`{k}`", RANGE_KEYS[k]] for k in space._RANGE_KEYS])
    limits = ", ".join(f"`{k}`" for k in scenario._SCENARIO_LIMITS)
    cons = _table(
        ["key", "value", "meaning"],
        [
            [
                "`max_<metric>`, `min_<metric>`",
                "number",
                "a limit on any numeric metric, e.g. `max_die_area_mm2 = 800`, `min_tokens_per_s = 500`",
            ],
            *[[f"`{k}`", "list", d] for k, d in LIST_CONSTRAINTS.items()],
            [
                "`memory_count_max`",
                "table",
                "memory id = largest `memory_count`, e.g. `{ hbm2e = 4 }`",
            ],
        ],
    )
    scen = _table(["key", "meaning"], [[f"`{k}`", SCENARIO_KEYS[k]] for k in scenario._SCENARIO_KEYS])
    return (
        "A study file has the tables:\n\n"
        + top
        + "\n\n`[study]` keys:\n\n"
        + st
        + "\n\n`[fixed]` and `[space]` take chip keys (every required chip key but `name` in "
        "exactly one of them). A `[space]` value is a list (categorical) or a range table:\n\n"
        + rng
        + "\n\n`[space.when.<key>.<choice>]` (optional, any number): ranges of numeric chip keys "
        "that replace the `[space]` range when the categorical key `<key>` (a list in `[space]`) "
        "takes the value `<choice>`, e.g. `[space.when.memory.hbm2e]` with `memory_count = { low = 1, "
        "high = 4 }`; a key absent from `[space]` needs a range for every choice. optuna is asked for "
        "the key's position in its range, `<key>.position` in [0, 1] (the same distribution in every "
        "trial, so NSGA-II evolves it); see [The study file](study-file.md).\n\n"
        "`[constraints]` keys:\n\n"
        + cons
        + "\n\nA scenario file (`scenario = ...`) takes the keys below; its lists are "
        f"intersected with the study's, its caps added, and of {limits} the stricter holds.\n\n"
        + scen
    )


def _api_objects() -> list[tuple[str, str, object]]:
    out = []
    for name in sorted(dse._EXPORTS):
        module = dse._EXPORTS[name]
        out.append((name, module, getattr(importlib.import_module(module), name)))
    return out


def python_api() -> str:
    rows = []
    for name, module, obj in _api_objects():
        if inspect.isfunction(obj) or inspect.isclass(obj):
            doc = (inspect.getdoc(obj) or "").strip().splitlines()
            summary = doc[0] if doc else ""
        elif isinstance(obj, dict):
            summary = f"declaration (`dict` of {len(obj)} entries)"
        else:
            doc = (
                (getattr(getattr(obj, "__wrapped__", None), "__doc__", None) or "")
                .strip()
                .splitlines()
            )
            summary = doc[0] if doc else ""
        summary = re.sub(r":(?:class|func|data|meth|mod):`~?([^`]+)`", r"`\1`", summary)
        summary = summary.replace("``", "`")
        kind = "class" if inspect.isclass(obj) else "function" if callable(obj) else "data"
        rows.append(
            [f"[`dse.{name}`](api.md#{module}.{name})", kind, f"`{module}`", _cell(summary)]
        )
    return _table(["name", "kind", "defined in", "summary"], rows)


def api_reference() -> str:
    blocks = []
    current = None
    for name, module, _ in sorted(_api_objects(), key=lambda t: (t[1], t[0])):
        if module != current:
            blocks.append(f"## `{module}`")
            current = module
        blocks.append(f"::: {module}.{name}")
    return "\n\n".join(blocks)


SECTIONS: dict[Path, dict[str, Callable[[], str]]] = {
    CONTRACT: {
        "chip-keys": chip_keys,
        "metrics": metrics,
        "json-keys": json_keys,
        "csv-columns": csv_columns,
        "workload-strings": workload_strings,
        "command-line": command_line,
        "study-keys": study_keys,
        "python-api": python_api,
    },
    API: {"api-reference": api_reference},
}


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- BEGIN GENERATED: {re.escape(name)} [^>]*-->\n)(.*?)(<!-- END GENERATED: {re.escape(name)} -->)",
        re.S,
    )


def render(text: str, sections: dict[str, Callable[[], str]]) -> str:
    """``text`` with every marked section replaced by its current rendering."""
    for name, fn in sections.items():
        pattern = _pattern(name)
        if not pattern.search(text):
            raise SystemExit(f"gen_contract_docs: no marked section {name!r}")
        body = fn().rstrip("\n") + "\n"
        text = pattern.sub(
            lambda m, body=body: m.group(1) + "\n" + body + "\n" + m.group(3), text, count=1
        )
    return text


def stale() -> list[str]:
    """Files whose generated sections are not current (relative paths)."""
    out = []
    for path, sections in SECTIONS.items():
        text = path.read_text(encoding="utf-8")
        if render(text, sections) != text:
            out.append(str(path.relative_to(ROOT)))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--check", action="store_true", help="exit 1 if a generated section is not current"
    )
    args = ap.parse_args(argv)
    if args.check:
        bad = stale()
        for path in bad:
            print(
                f"{path}: generated sections are not current; run python scripts/gen_contract_docs.py"
            )
        return 1 if bad else 0
    for path, sections in SECTIONS.items():
        text = path.read_text(encoding="utf-8")
        new = render(text, sections)
        if new != text:
            path.write_text(new, encoding="utf-8")
            print(f"updated {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
