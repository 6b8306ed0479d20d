"""The package's import layers (docs/index.md, "Layout"): each role imports only the roles
below it, so the pipeline reads one way from ``ls dse/``.

    vocabulary (units, errors, fmt)
      <- model (the physics)
      <- inputs (constants, tech, spec, metrics, workloads)
      <- plots (figures of tables)  and  chain (the model chain)
      <- search, analysis
      <- report
      <- cli

Every ``import`` counts, also the ones inside functions (lazy imports keep start-up fast,
not the layers loose).
"""

from __future__ import annotations

import ast
from pathlib import Path

import dse

ROOT = Path(dse.__file__).parent

#: role -> (rank, module prefixes); a module may import a role of lower or equal rank
LAYERS = {
    "vocabulary": (0, ("dse.units", "dse.errors", "dse.fmt")),
    "model": (1, ("dse.model",)),
    "inputs": (2, ("dse.constants", "dse.tech", "dse.spec", "dse.metrics", "dse.workloads")),
    "plots": (3, ("dse.plots",)),
    "chain": (3, ("dse.chain",)),
    "search": (4, ("dse.search", "dse.analysis")),
    "report": (5, ("dse.report",)),
    "cli": (6, ("dse.cli", "dse.__main__")),
}
#: the imports a role may make across the rule, each with its reason
ALLOWED = {
    # the model's functions default to the packaged constants table when given none
    ("model", "dse.constants"),
    # the front arithmetic (non-dominated sorting, distinct designs): pure numpy, no dse import
    ("plots", "dse.search.pareto"),
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _role(module: str) -> str | None:
    best = None
    for role, (_, prefixes) in LAYERS.items():
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > len(best[1]):
                    best = (role, prefix)
    return best[0] if best else None


def _imports(path: Path) -> set[str]:
    """Every dse module ``path`` imports (``from dse import x`` counts as ``dse.x``)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("dse")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "dse":
                out |= {f"dse.{a.name}" for a in node.names}
            elif node.module.startswith("dse."):
                out.add(node.module)
    return out


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def test_every_module_has_a_role():
    missing = [m for m in _modules() if m != "dse" and _role(m) is None]
    assert not missing, f"modules outside the layers (add them to LAYERS): {missing}"


def test_imports_flow_one_way():
    bad = []
    for module, path in _modules().items():
        role = _role(module)
        if role is None:
            continue
        rank = LAYERS[role][0]
        for target in sorted(_imports(path)):
            if target == "dse.__version__":
                continue
            target_role = _role(target)
            if target == "dse" or target_role is None:  # the package root: the lazy public API
                if rank < LAYERS["search"][0]:
                    bad.append(f"{module} imports the package root ({target})")
                continue
            if (role, target) in ALLOWED:
                continue
            target_rank = LAYERS[target_role][0]
            same_rank_other_role = target_rank == rank and target_role != role
            if target_rank > rank or same_rank_other_role:
                bad.append(f"{module} ({role}) imports {target} ({target_role})")
    assert not bad, "imports against the layers:\n" + "\n".join(bad)


def test_the_rule_catches_a_climb(tmp_path):
    """The checker sees an import inside a function (a model module reaching the chain)."""
    path = tmp_path / "m.py"
    path.write_text("def f():\n    from dse.chain import evaluate\n", encoding="utf-8")
    assert _imports(path) == {"dse.chain"}
    assert _role("dse.model.area") == "model" and _role("dse.chain.api") == "chain"
    assert LAYERS[_role("dse.chain.api")][0] > LAYERS["model"][0]
