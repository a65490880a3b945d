"""The API reference (docs/reference/, built by mkdocstrings): it builds under --strict, and
every name each public module's ``__all__`` lists has its entry on the module's page."""

from __future__ import annotations

import importlib
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGES = {
    "streamflow": "streamflow",
    "streamflow.codec": "codec",
    "streamflow.records": "records",
    "streamflow.models": "models",
    "streamflow.filters": "filters",
    "streamflow.router": "router",
    "streamflow.testing": "testing",
    "streamflow.runner": "runner",
    "streamflow.check": "check",
    "streamflow.recipes.scores": "recipes-scores",
    "streamflow.errors": "errors",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return out


@pytest.mark.parametrize("module", sorted(PAGES))
def test_every_public_name_has_its_entry(site: pathlib.Path, module: str) -> None:
    page = (site / "reference" / PAGES[module] / "index.html").read_text(encoding="utf-8")
    names = importlib.import_module(module).__all__
    missing = [name for name in names if f'id="{module}.{name}"' not in page]
    assert not missing, f"{module}: no reference entry for {missing}"
