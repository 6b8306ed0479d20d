"""The README and the documentation site: size, links, generated contract tables.

The site itself is built by ``.ci/run`` (``mkdocs build --strict``); these tests need no
mkdocs and check what the build does not: the README (outside the site), that the
generated tables match the code's declarations, and that every public name has an API
entry.
"""

from __future__ import annotations

import importlib.util
import re
import unicodedata
from pathlib import Path

import pytest

import dse

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"
DOC_PAGES = sorted(DOCS.glob("*.md"))
README_MAX_BYTES = 15_000

_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_SRC = re.compile(r"""\bsrc=["']([^"']+)["']""")


def _load_generator():
    spec = importlib.util.spec_from_file_location(
        "gen_contract_docs", ROOT / "scripts" / "gen_contract_docs.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _prose(text: str) -> str:
    """Markdown without fenced code blocks and inline code (no links live there)."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def _links(path: Path) -> list[str]:
    text = _prose(path.read_text(encoding="utf-8"))
    return _LINK.findall(text) + _SRC.findall(text)


def _slug(heading: str) -> str:
    """The anchor Python-Markdown's toc extension gives a heading (its default slugify)."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def _anchors(path: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)
    found = {_slug(h) for h in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, flags=re.M)}
    found |= set(re.findall(r"^::: (\S+)", text, flags=re.M))  # mkdocstrings object ids
    return found


def test_readme_is_one_page():
    size = len(README.read_bytes())
    assert size <= README_MAX_BYTES, f"README.md is {size:,} bytes, more than {README_MAX_BYTES:,}"


def test_readme_keeps_the_two_commands():
    # the set-up command and the test command CI runs as "the README's test command"
    text = README.read_text(encoding="utf-8")
    setup = (
        "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[dev]' "
        "&& dse run studies/domestic_7nm_decode_400w.toml"
    )
    assert setup in text
    assert "\npython -m pytest\n" in text
    assert "\npython -m pytest\n" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert (ROOT / "studies" / "domestic_7nm_decode_400w.toml").is_file()


@pytest.mark.parametrize("page", [README, *DOC_PAGES], ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page):
    bad = []
    for link in _links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", link):  # http:, https:, mailto:
            continue
        target, _, anchor = link.partition("#")
        path = page if not target else (page.parent / target).resolve()
        if not path.is_file():
            bad.append(f"{link}: no file {path}")
        elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
            bad.append(f"{link}: no heading with anchor #{anchor} in {path.name}")
    assert not bad, f"{page.name}: " + "; ".join(bad)


def test_links_are_found():
    # the link scanner sees the links it should: markdown links, images, and HTML src
    assert "docs/img/pareto_fronts.png" in _links(README)
    assert "docs/contract.md#python-api" in _links(README)
    assert "img/thermal_map.png" in _links(DOCS / "getting-started.md")
    assert _slug("Fidelity: `dse validate`") == "fidelity-dse-validate"
    assert _slug("Overheat or fail: lifetime, memory temperature and power delivery") == (
        "overheat-or-fail-lifetime-memory-temperature-and-power-delivery"
    )


def test_images_live_in_docs_img():
    for page in [README, *DOC_PAGES]:
        for link in _links(page):
            if link.lower().endswith((".png", ".svg", ".jpg")):
                assert (page.parent / link).resolve().parent == DOCS / "img", f"{page.name}: {link}"


def test_generated_contract_is_current():
    gen = _load_generator()
    assert gen.stale() == [], "run python scripts/gen_contract_docs.py and commit the result"


def test_generated_tables_name_every_declared_key():
    from dse.metrics import METRICS
    from dse.search.study import _STUDY_KEYS
    from dse.spec import CHIP_KEYS
    from dse.workloads import BUILTIN_MODELS, WORKLOAD_KINDS

    gen = _load_generator()
    chip, metrics, study, wl = (
        gen.chip_keys(),
        gen.metrics(),
        gen.study_keys(),
        gen.workload_strings(),
    )
    for key in CHIP_KEYS:
        assert f"| `{key}` |" in chip
    for key in METRICS:
        assert f"| `{key}` |" in metrics
    for key in _STUDY_KEYS:
        assert f"| `{key}` |" in study
    for kind in WORKLOAD_KINDS:
        assert f"| `{kind}:" in wl
    for model in BUILTIN_MODELS:
        assert f"| `{model}` |" in wl
    contract = (DOCS / "contract.md").read_text(encoding="utf-8")
    assert chip in contract and metrics in contract and study in contract


def test_generator_refuses_an_undescribed_key():
    gen = _load_generator()
    with pytest.raises(SystemExit, match="new_key"):
        gen._check_described("test", ("name", "new_key"), {"name": "x"})


def test_api_reference_covers_every_public_name():
    api = (DOCS / "api.md").read_text(encoding="utf-8")
    for name in dse.__all__:
        if name == "__version__":
            continue
        assert f"::: {dse._EXPORTS[name]}.{name}\n" in api, name


def test_every_page_is_in_the_nav():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in DOC_PAGES:
        assert re.search(rf":\s+{re.escape(page.name)}\s*$", nav, flags=re.M), page.name
