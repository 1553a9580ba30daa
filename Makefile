# hingecheck: `make demo` analyses a bundled sample, `make test` runs the test suite.
# Both create (or refresh) the local virtual environment .venv first.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_CLIP := samples/hinge_good_stoop.mp4
DEMO_OUT := out/demo

.PHONY: venv demo test lint bench clean browser retrain

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,dask,serve]"
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/hingecheck analyze $(DEMO_CLIP) -o $(DEMO_OUT)
	@echo ""
	@echo "Outputs are in $(DEMO_OUT)/: open $(DEMO_OUT)/report.html in a browser"
	@echo "(annotated.mp4, frames.csv, reps.csv, summary.json and plots are beside it)."

# The browser tests need Debian's chromium, the live-window tests Xvfb; tools/ensure-test-tools installs
# them when it can (root + apt).
browser:
	@sh tools/ensure-test-tools

test: $(STAMP) browser
	$(BIN)/ruff check hingecheck tests bench tools
	$(BIN)/mypy hingecheck
	$(BIN)/lint-imports
	bash tools/check_wheel.sh
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check hingecheck tests bench tools
	$(BIN)/ruff format --check hingecheck tests bench tools

bench: $(STAMP)
	$(BIN)/python bench/speed.py $(DEMO_CLIP)

# The learned lumbopelvic model (hingecheck/models/lumbopelvic.npz) from the committed corpus table data/corpus/
# (no re-render needed): fitted on the training bodies, scored on the validation bodies and the devset. The crop CNN
# trains with CPU torch (PyTorch's CPU index; ~20 min on one core); the package itself runs it in numpy.
retrain: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[train]" --extra-index-url https://download.pytorch.org/whl/cpu
	$(BIN)/python tools/train_lumbopelvic.py --export hingecheck/models/lumbopelvic.npz

clean:
	rm -rf $(VENV) out .pytest_cache
