# streamflow: the two commands in README.md work on a fresh machine with python3, make and git.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev-deploy
LOCK := requirements/dev.lock

.PHONY: demo test bench clean lock

# (Re)install when the venv is missing, or pyproject.toml or the lock changed since the last
# install: the dev and deploy extras at the exact versions of the lock (the versions CI
# tested), then the project itself without resolving anything more. A dev or deploy
# requirement of pyproject.toml that the lock lacks or pins outside its range stops here:
# run `make lock`.
$(STAMP): pyproject.toml $(LOCK)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -c "$$LOCK_COVERS_EXTRAS"
	touch $(STAMP)

# Every requirement of the dev and deploy extras is installed, in its range.
define LOCK_COVERS_EXTRAS
import importlib.metadata as md, sys
from packaging.requirements import Requirement
stale = []
for text in md.requires("streamflow-dynamodb") or []:
    req = Requirement(text)
    extras = ("dev", "deploy")
    if req.marker is None or not any(req.marker.evaluate({"extra": e}) for e in extras):
        continue
    try:
        version = md.version(req.name)
    except md.PackageNotFoundError:
        version = None
    if version is None or not req.specifier.contains(version, prereleases=True):
        stale.append(f"{req} (installed: {version})")
if stale:
    sys.exit("$(LOCK) is out of date with pyproject.toml; run `make lock`:\n  " + "\n  ".join(stale))
endef
export LOCK_COVERS_EXTRAS

# Re-resolve the lock after a change of the dev or deploy extras: keeps every pin that still
# fits, for every supported Python (3.10 up). `make lock UPGRADE=--upgrade` moves all pins to
# the newest versions. Then `make test`, and commit the lock with the change.
lock:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet uv
	$(PY) -m uv pip compile pyproject.toml --extra dev --extra deploy --universal \
		--python-version 3.10 --no-header --annotation-style line $(UPGRADE) -o $(LOCK)

demo: $(STAMP)
	$(PY) examples/score_pipeline/demo.py

# The docs build is not --quiet: that would silence the warnings --strict turns into failures
# (a broken link, a docstring cross-reference to nothing); its log shows only when it fails.
test: $(STAMP)
	$(PY) -m ruff check src tests benchmarks examples
	$(PY) -m ruff format --check src tests benchmarks examples
	$(PY) -m mypy --strict src tests/typing
	JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 $(PY) -m pytest -q
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --site-dir $(VENV)/site \
		2>$(VENV)/mkdocs.log || { cat $(VENV)/mkdocs.log; exit 1; }

bench: $(STAMP)
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) build dist .mypy_cache .pytest_cache .ruff_cache .hypothesis
