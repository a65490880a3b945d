# streamflow: the two commands in README.md work on a fresh machine with python3, make and git.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev-deploy
LOCK := requirements/dev.lock

.PHONY: demo test bench clean lock dist

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
test: $(STAMP) dist
	$(PY) -m ruff check src tests benchmarks examples
	$(PY) -m ruff format --check src tests benchmarks examples
	$(PY) -m mypy --strict src tests benchmarks
	JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 $(PY) -m pytest -q
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --site-dir $(VENV)/site \
		2>$(VENV)/mkdocs.log || { cat $(VENV)/mkdocs.log; exit 1; }

# The sdist and wheel, their metadata checked as PyPI checks it, and the wheel installed in a
# bare venv (boto3 and typing-extensions only, as a Lambda project gets it) and imported.
dist: $(STAMP)
	rm -rf dist $(VENV)/dist-check
	$(PY) -m build --quiet --sdist --wheel --outdir dist .
	$(PY) -m twine check --strict dist/*
	$(PYTHON) -m venv $(VENV)/dist-check
	$(VENV)/dist-check/bin/python -m pip install --quiet dist/*.whl
	cd dist && ../$(VENV)/dist-check/bin/python -c "$$DIST_SMOKE"

define DIST_SMOKE
import importlib.metadata as md, pathlib, streamflow
from streamflow import Router, StreamRecord, parse_event, testing
from streamflow.filters import Filter
assert "site-packages" in streamflow.__file__, streamflow.__file__
assert (pathlib.Path(streamflow.__file__).parent / "py.typed").exists(), "py.typed"
requires = sorted(r.split(";")[0].split(">")[0].split("=")[0].strip() for r in md.requires("streamflow-dynamodb") if "extra ==" not in r)
assert requires == ["boto3", "typing-extensions"], requires
router = Router()
router.on(Filter.insert())(lambda record: None)
assert router.lambda_handler(testing.event(testing.insert({"PK": "A", "SK": "B"})), None) == {"batchItemFailures": []}
print("dist: the wheel installs and runs:", md.version("streamflow-dynamodb"))
endef
export DIST_SMOKE

bench: $(STAMP)
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) build dist .mypy_cache .pytest_cache .ruff_cache .hypothesis
