"""Command-line front end: argument parsing and printing, nothing else.

Every user error (a file, a flag, a value) prints one line ``dse: error: ...`` on stderr
and exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from dse import __version__
from dse.errors import DseInputError
from dse.fmt import number


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error message (no usage dump) and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise DseInputError(f"{message} (see `{self.prog} --help`)")


def _tech(args: argparse.Namespace):
    from dse.tech import default_tech, load_tech

    return load_tech(args.tech) if getattr(args, "tech", None) else default_tech()


def _resolve_chip_path(text: str) -> Path:
    path = Path(text)
    if path.exists():
        return path
    from dse.chain import example_chips

    chips = example_chips()
    if text in chips:
        return chips[text]
    from dse.errors import close_match_hint

    raise DseInputError(
        f"chip file not found: {text}"
        + close_match_hint(text, chips)
        + f"; packaged examples: {', '.join(chips)}"
    )


def _fmt(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(value) if value else "none"
    return number(value)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from dse.chain import evaluate
    from dse.metrics import METRICS
    from dse.spec import load_chip

    tech = _tech(args) if args.tech else None
    chip = load_chip(_resolve_chip_path(args.chip), tech=tech)
    if args.samples:
        return _evaluate_samples(chip, args, tech)
    metrics = evaluate(chip, args.workload, tech=tech)
    d = metrics.to_dict()
    if args.plot:
        written = _evaluate_plots(chip, args.workload, tech, Path(args.plot))
    mechanisms = None
    if metrics.workload:
        from dse.chain import reliability_breakdown

        mechanisms = reliability_breakdown(chip, args.workload, tech)
    if args.json:
        d = {"name": chip.name, **d}
        if mechanisms is not None:  # per-mechanism rates (NaN -> null: BTI is a drift)
            d["reliability"] = json.loads(mechanisms.to_json(orient="records"))
        print(json.dumps(d, indent=2))
        return 0
    print(
        f"{chip.name}  ({chip.node}, {chip.cores} cores x {chip.macs_per_core} MAC/clk @ {chip.clock_ghz:g} GHz, "
        f"{chip.sram_mb:g} MiB SRAM, {chip.memory_count} x {chip.memory}, {chip.tdp_w:g} W {chip.cooling})"
    )
    if metrics.workload:
        print(f"workload: {metrics.workload}")
    for key, value in d.items():
        if key == "workload":
            continue
        unit = METRICS[key].unit if key in METRICS else ""
        unit = (
            ""
            if unit in ("", "count", "fraction")
            or key.endswith(
                ("_s", "_j", "_w", "_c", "_usd", "_mm2", "_gb", "_gbps", "_ghz", "_tflops")
            )
            else unit
        )
        print(f"  {key:<26} {_fmt(value):>14} {unit}")
    if mechanisms is not None:
        print(_lifetime_line(metrics, mechanisms, chip))
    hint = _system_hint(chip, metrics, args.workload, tech)
    if hint:
        print(hint)
    if args.plot:
        print(f"plots written to {args.plot}/: {', '.join(p.name for p in written)}")
    return 0


def _system_hint(chip, metrics, workload, tech) -> str:
    """How to size a system when one chip cannot hold an LLM's weights and KV cache."""
    from dse.chain import evaluate

    if chip.system != "single" or "memory_capacity" not in metrics.violations:
        return ""
    if not str(metrics.workload or "").startswith(("llm-decode", "llm-prefill")):
        return ""
    sized = evaluate(chip.replace(system="auto"), workload, tech=tech)
    if "system_size" in sized.violations:
        return "memory_capacity: one chip cannot hold the weights and KV cache, and no system of these chips can either"
    return (
        f"memory_capacity: one chip cannot hold the weights and KV cache; system = \"auto\" in the chip "
        f"file sizes a system: {_fmt(sized.system_chips)} chips ({_fmt(sized.system_tp)}-way tensor x "
        f"{_fmt(sized.system_pp)} pipeline stage{'' if sized.system_pp == 1 else 's'} over {chip.link}, "
        f"tp_max {chip.tp_max})"
    )


def _cycles(chip) -> str:
    n = chip.load_cycles_per_day
    return f"{n:g} load cycle{'' if n == 1 else 's'}"


def _lifetime_line(metrics, mechanisms, chip) -> str:
    """One sentence on the lifetime: its value, the limiting mechanism, the rates."""
    rates = ", ".join(
        f"{row.mechanism} {_fmt(row.fit)} FIT" for row in mechanisms.itertuples() if row.mechanism != "bti"
    )
    bti = float(mechanisms.set_index("mechanism").loc["bti", "years_alone"])
    return (
        f"lifetime: {_fmt(metrics.lifetime_years)} years to 1 % wear-out failures at duty "
        f"{chip.duty_cycle:g} and {_cycles(chip)} a day, limited by "
        f"{metrics.lifetime_mechanism} ({rates}; BTI uses up the clock guard band in {_fmt(bti)} years)"
    )


def _evaluate_samples(chip, args: argparse.Namespace, tech) -> int:
    """``dse evaluate --samples K``: P10/P50/P90 of every numeric metric (and a tornado)."""
    import pandas as pd

    from dse.analysis.uncertainty import evaluate_samples, percentiles
    from dse.metrics import METRICS

    if args.samples < 2:
        raise DseInputError("--samples needs at least 2 samples")
    rows = evaluate_samples(pd.DataFrame([chip.to_dict()]), args.workload, k=args.samples, seed=args.seed, tech=tech)
    names = [m for m, s in METRICS.items() if s.kind == "float" and m in rows.columns]
    pct = percentiles(rows, names)
    table = {m: {f"p{q}": float(pct[f"{m}_p{q}"].iloc[0]) for q in (10, 50, 90)} for m in names}
    feasible = float(rows["feasible"].mean())
    if args.json:
        print(json.dumps({"name": chip.name, "samples": args.samples, "feasible_fraction": feasible, "percentiles": table}, indent=2))
    else:
        print(f"{chip.name}: {args.samples} Monte Carlo samples of the uncertain table values (triangular low/value/high)")
        if args.workload:
            print(f"workload: {args.workload}")
        print(f"  {'metric':<30} {'P10':>12} {'P50':>12} {'P90':>12}")
        for m, v in table.items():
            print(f"  {m:<30} {_fmt(v['p10']):>12} {_fmt(v['p50']):>12} {_fmt(v['p90']):>12}")
        print(f"  feasible in {feasible:.0%} of the samples")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        from dse import plots
        from dse.analysis.uncertainty import tornado
        from dse.plots.tornado import plot_tornado

        out = Path(args.plot)
        out.mkdir(parents=True, exist_ok=True)
        metric = "cost_per_throughput_usd" if args.workload else "unit_cost_usd"
        fig = plots.new_figure(9.0, 6.0)
        from dse.metrics import METRICS as _M

        ax = plot_tornado(tornado(chip, metric, workload=args.workload), ax=fig.add_subplot(1, 1, 1))
        ax.set_xlabel(f"{metric} [{_M[metric].unit}] (vertical line: all inputs at their table value)")
        ax.set_title(f"{chip.name}: which uncertain inputs move {metric} most\n(each input alone at its low / high value)")
        path = plots.save_figure(fig, out / "tornado.png")
        print(f"plot written to {path}", file=sys.stderr)
    return 0


def _evaluate_plots(chip, workload, tech, out: Path) -> list[Path]:
    """Thermal map, roofline and power breakdown of one chip on a workload, as PNGs in ``out``."""
    if not workload:
        raise DseInputError(
            "--plot needs --workload (the thermal map depends on the workload's power)"
        )
    import matplotlib

    matplotlib.use("Agg")
    from dse import plots
    from dse.chain import (
        lifetime_sweep,
        op_breakdown,
        power_breakdown,
        roofline_ceilings,
        thermal_map,
    )
    from dse.plots.thermal import plot_thermal_map
    from dse.workloads import parse_workload

    out.mkdir(parents=True, exist_ok=True)
    paths = []
    wl = parse_workload(workload) if isinstance(workload, str) else workload
    if wl.serve is not None:  # the batch-latency curve, then the iteration at serve_batch
        from dse.chain import evaluate, serve_curve
        from dse.workloads import serve_step_workload

        batch = int(evaluate(chip, wl, tech=tech).serve_batch or 1)  # a serve workload sets it
        fig = plots.new_figure(9.0, 5.0)
        plots.plot_serve_curve(
            serve_curve(chip, wl, tech=tech), wl.serve, serve_batch=batch, ax=fig.add_subplot(1, 1, 1),
            title=f"{chip.name}: {wl.spec}\nlatency against the batch of running requests",
        )  # fmt: skip
        paths.append(plots.save_figure(fig, out / "serve_curve.png"))
        assert wl.model_config is not None  # an llm-serve workload has its model
        workload = serve_step_workload(
            wl.model_config, wl.serve, batch, wl.dtype, str(wl.weight_dtype), str(wl.kv_dtype),
            spec_text=f"{wl.spec} at batch {batch}",
        )  # fmt: skip
    label = workload.spec if not isinstance(workload, str) else workload
    result, fp = thermal_map(chip, workload, tech)
    fig = plots.new_figure(8.0, 7.0)
    title = f"{chip.name}: {label}\nhot spot {result.peak_c:.1f} °C, die mean {result.mean_c:.1f} °C, {result.power_w:.0f} W"
    plot_thermal_map(result, fp, ax=fig.add_subplot(1, 1, 1), title=title)
    paths.append(plots.save_figure(fig, out / "thermal_map.png"))
    fig = plots.new_figure(10.0, 6.0)
    data = plots.roofline_data(
        op_breakdown(chip, workload, tech), roofline_ceilings(chip, workload, tech)
    )
    plots.plot_roofline(data, ax=fig.add_subplot(1, 1, 1), title=f"{chip.name}: {label}")
    paths.append(plots.save_figure(fig, out / "roofline.png"))
    fig = plots.new_figure(8.0, 4.5)
    plots.plot_power_breakdown(
        power_breakdown(chip, workload, tech), tdp_w=chip.tdp_w, ax=fig.add_subplot(1, 1, 1),
        title=f"{chip.name}: {label}\nwhere the module power goes at the sustained clock",
    )  # fmt: skip
    paths.append(plots.save_figure(fig, out / "power_breakdown.png"))
    fig = plots.new_figure(10.0, 5.0)
    plots.plot_lifetime_vs_clock(
        lifetime_sweep(chip, workload, tech), declared_clock_ghz=chip.clock_ghz, ax=fig.add_subplot(1, 1, 1),
        title=f"{chip.name}: {label}\nlifetime against clock for each cooling tier "
        f"(duty {chip.duty_cycle:g}, {_cycles(chip)} a day, {chip.ambient_c:g} °C ambient)",
    )  # fmt: skip
    paths.append(plots.save_figure(fig, out / "lifetime_vs_clock.png"))
    return paths


def cmd_compare(args: argparse.Namespace) -> int:
    from dse.analysis.compare import compare
    from dse.plots.compare import infeasible, is_system_comparison, plot_compare
    from dse.spec import load_chip

    if len(args.chips) < 2:
        raise DseInputError("compare needs at least two chip files")
    tech = _tech(args) if args.tech else None
    chips = [load_chip(_resolve_chip_path(p), tech=tech) for p in args.chips]
    frame = compare(chips, args.workload)
    if args.csv:
        frame.to_csv(sys.stdout)
    else:
        import pandas as pd

        with pd.option_context(
            "display.max_rows", None, "display.width", 200, "display.float_format", "{:,.4g}".format
        ):
            print(frame.to_string())
        for chip, why in infeasible(frame).items():
            print(f"infeasible: {chip} ({why})")
        if is_system_comparison(frame):
            print("the plot compares the systems' figures (system_*): a chip here is one chip of its system")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(9, 6), constrained_layout=True)
        plot_compare(
            frame,
            ax=ax,
            title=f"{' vs '.join(frame.columns)}" + (f"\n{args.workload}" if args.workload else ""),
        )
        out = Path(args.plot)
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, dpi=150)
        plt.close(fig)
        print(f"plot written to {out}", file=sys.stderr)
    return 0


def _print_table(frame, columns: list[str], as_csv: bool) -> None:
    if as_csv:
        frame.to_csv(sys.stdout)
        return
    import pandas as pd

    with pd.option_context(
        "display.max_rows", None, "display.max_columns", None, "display.width", 200
    ):
        print(frame[columns].to_string())


def cmd_nodes(args: argparse.Namespace) -> int:
    table = _tech(args).node_table()
    cols = [
        "foundry",
        "name",
        "logic_density_mtr_mm2",
        "sram_macro_mbit_mm2",
        "vdd_nominal_v",
        "energy_factor",
        "wafer_cost_usd",
        "defect_density_per_cm2",
        "domestic_china",
        "presumption_16_14nm",
    ]
    _print_table(table, [c for c in cols if c in table], args.csv)
    if not args.csv:
        print("\nsources: `dse nodes --csv` prints every column incl. low/high ranges and sources")
    return 0


def cmd_memories(args: argparse.Namespace) -> int:
    table = _tech(args).memory_table()
    cols = [
        "name",
        "bandwidth_gbps_per_unit",
        "capacity_gb_per_unit",
        "energy_pj_per_bit",
        "phy_area_mm2_per_unit",
        "cost_usd_per_gb",
        "export_controlled",
        "domestic_china_supply",
    ]
    _print_table(table, [c for c in cols if c in table], args.csv)
    if not args.csv:
        print(
            "\nsources: `dse memories --csv` prints every column incl. low/high ranges and sources"
        )
    return 0


def _default_out(config: Any, suffix: str = "") -> Path:
    return Path("results") / f"{config.name}{suffix}"


def dashboard_command(storage: str | None) -> str | None:
    """The optuna-dashboard command line for a study's storage (None in memory).

    optuna-dashboard opens a journal file path and any optuna storage URL as they are.
    """
    if not storage:
        return None
    import shlex

    return f"optuna-dashboard {shlex.quote(str(storage))}"


def cmd_run(args: argparse.Namespace) -> int:
    """`dse run STUDY.toml [--trials N] [--storage URL] [--workers N] [--out DIR] [--seed S] [--sampler S]`.

    Parameters
    ----------
    args : argparse.Namespace
        ``study``, ``trials``, ``storage``, ``workers``, ``out``, ``seed``, ``sampler``
        (missing attributes take their defaults).

    Returns
    -------
    int
        Exit code: 0 done, 130 interrupted (trials kept; rerun to resume).
    """
    from dse.report import convergence_of, write_result
    from dse.search import run_study
    from dse.search.study import load_study

    config = load_study(args.study)
    robust = getattr(args, "robust", None)
    percentile = getattr(args, "percentile", None) or 90.0
    evaluate = None
    suffix = ""
    if robust:
        from dse.analysis.uncertainty import RobustEvaluate

        evaluate = RobustEvaluate(robust, percentile, seed=config.seed)
        suffix = f"-robust{robust}-p{percentile:g}"  # its own storage: other numbers
    out = Path(getattr(args, "out", None) or _default_out(config, suffix))
    storage = getattr(args, "storage", None)
    try:
        result = run_study(
            config,
            trials=getattr(args, "trials", None),
            storage=storage,
            workers=getattr(args, "workers", None) or 1,
            out=out,
            seed=getattr(args, "seed", None),
            sampler=getattr(args, "sampler", None),
            progress=not getattr(args, "quiet", False),
            evaluate=evaluate,
        )
    except KeyboardInterrupt:
        where = storage or out / "study.journal"
        print(
            f"\ninterrupted: finished trials are kept in {where}; run the same command again to resume",
            file=sys.stderr,
        )
        return 130
    convergence = convergence_of(result)  # computed once: the warning and every output
    files = write_result(result, out, convergence=convergence)
    if convergence is not None and convergence.warning:
        print(f"warning: {convergence.warning} (convergence.png, summary.md)", file=sys.stderr)
    print(
        f"{result.n_evaluated} trials ({result.n_new} new, {result.trials_per_s:,.0f} trials/s), "
        f"{result.n_feasible} feasible, {len(result.pareto)} Pareto-optimal; storage {result.storage}"
    )
    print(f"browse the trials: {dashboard_command(result.storage)}  (pip install optuna-dashboard)")
    print(f"outputs in {out}/: {', '.join(files)}")
    return 0


def cmd_grid(args: argparse.Namespace) -> int:
    """`dse grid STUDY.toml [--out DIR]`: exhaustive enumeration, same outputs.

    Parameters
    ----------
    args : argparse.Namespace
        ``study``, ``out`` (and optionally ``max_points``).

    Returns
    -------
    int
        Exit code 0.
    """
    from dse.report import write_result
    from dse.search.grid import DEFAULT_GRID_MAX_POINTS, grid
    from dse.search.study import load_study

    config = load_study(args.study)
    out = Path(getattr(args, "out", None) or _default_out(config, "-grid"))
    max_points = getattr(args, "max_points", None) or DEFAULT_GRID_MAX_POINTS
    result = grid(
        config, out=out, max_points=max_points, progress=not getattr(args, "quiet", False)
    )
    files = write_result(result, out)
    print(
        f"{result.n_evaluated:,} grid points ({result.trials_per_s:,.0f}/s), {result.n_feasible:,} feasible, "
        f"{len(result.pareto)} Pareto-optimal"
    )
    print(f"outputs in {out}/: {', '.join(files)}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from dse.report.html import write_report
    from dse.report.html_data import load_result

    result = load_result(args.dir, args.study)
    path = write_report(result, args.dir)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB): open it in a browser")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from dse.analysis.fidelity import cmd_validate as validate

    return validate(args)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got '{text}'") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got '{text}'")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got '{text}'") from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="dse",
        description="Design-space exploration of AI inference chips under fab constraints.",
    )
    parser.add_argument("--version", action="version", version=f"dse {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("evaluate", help="evaluate one chip (optionally on a workload)")
    p.add_argument(
        "chip", help="chip TOML file, or the name of a packaged example (a100-like, h100-like, ...)"
    )
    p.add_argument("--workload", "-w", help="e.g. llm-decode:llama-3-8b:batch=1,context=1024")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.add_argument(
        "--tech", help="technology file (CSV or TOML) extending/overriding nodes and memories"
    )
    p.add_argument("--plot", metavar="DIR", help="write thermal_map.png, roofline.png, power_breakdown.png and lifetime_vs_clock.png (serve_curve.png for llm-serve) into DIR")
    p.add_argument("--samples", type=_positive_int, metavar="K", help="Monte Carlo over the uncertain table values: P10/P50/P90 of each metric (with --plot, a tornado plot)")
    p.add_argument("--seed", type=_int, default=0, help="seed of the Monte Carlo samples")
    p.set_defaults(func=cmd_evaluate)

    for name, func, what in (
        ("nodes", cmd_nodes, "process nodes"),
        ("memories", cmd_memories, "memory technologies"),
    ):
        p = sub.add_parser(name, help=f"print the {what} table")
        p.add_argument(
            "--csv", action="store_true", help="all columns as CSV (with ranges and sources)"
        )
        p.add_argument(
            "--tech", help="technology file (CSV or TOML) extending/overriding the tables"
        )
        p.set_defaults(func=func)

    p = sub.add_parser("compare", help="two or more chips side by side on a workload")
    p.add_argument("chips", nargs="+", help="chip TOML files or packaged example names")
    p.add_argument("--workload", "-w", help="workload string")
    p.add_argument("--csv", action="store_true", help="print the table as CSV")
    p.add_argument("--plot", help="write a comparison plot (PNG) to this path")
    p.add_argument("--tech", help="technology file (CSV or TOML)")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("run", help="optuna multi-objective search of a study")
    p.add_argument("study", help="study TOML file")
    p.add_argument("--trials", type=_positive_int, help="total trials (default: the study's)")
    p.add_argument(
        "--storage", help="optuna storage URL or journal file (default: DIR/study.journal)"
    )
    p.add_argument(
        "--workers", type=_positive_int, default=1, help="worker processes on the same storage"
    )
    p.add_argument("--out", help="output folder (default: results/<study name>)")
    p.add_argument("--seed", type=_int, help="sampler seed (default: the study's)")
    p.add_argument(
        "--sampler",
        # dse.search.study.SAMPLERS, written out: importing it loads pandas (~0.35 s) on
        # every command (tests/test_local_sampler.py checks the two agree)
        choices=("local", "nsga2", "tpe", "gp", "random"),
        help="sampler (default: the study's, local)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.add_argument("--robust", type=_positive_int, metavar="K", help="Monte Carlo over the uncertain table values: K samples per design")
    p.add_argument("--percentile", type=float, default=90.0, help="with --robust: objectives at this pessimistic percentile (default 90)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "grid", help="exhaustive enumeration of a study's space (exact Pareto front)"
    )
    p.add_argument("study", help="study TOML file")
    p.add_argument("--out", help="output folder (default: results/<study name>-grid)")
    p.add_argument("--max-points", type=_positive_int, metavar="N", help="largest space enumerated (default 20,000,000)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_grid)

    p = sub.add_parser(
        "report", help="rebuild report.html (interactive, offline) in a study's output folder"
    )
    p.add_argument("dir", help="output folder of `dse run` or `dse grid`")
    p.add_argument(
        "--study", help="study TOML file (default: the one recorded in pareto.csv.meta.json)"
    )
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("validate", help="model vs published reference chips")
    p.add_argument("--json", action="store_true", help="print the error table as JSON")
    p.set_defaults(func=cmd_validate)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "command", None):
            parser.print_help()
            return 2
        return int(args.func(args) or 0)
    except DseInputError as exc:
        print(
            f"dse: error: {str(exc).splitlines()[0] if str(exc) else 'bad input'}", file=sys.stderr
        )
        return 2
    except KeyboardInterrupt:
        print("dse: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug, not bad input: one line, traceback on request
        if os.environ.get("DSE_DEBUG"):
            raise
        print(
            f"dse: internal error: {type(exc).__name__}: {exc} (set DSE_DEBUG=1 for the traceback; please report it)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
