# The two commands README.md opens with: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev
SYSTEM_STAMP := $(VENV)/.installed-system-test
CORPUS ?= ../shared/data/cry-corpus

DEMO_DIR := build/demo
HAS_MICROPHONE := from miserymeter.capture.microphone import input_devices as d; raise SystemExit(not d())

.PHONY: run demo test lint bench bench-microphones validation-nights out-of-fold bench-train bench-train-load bench-record bench-store bench-listen bench-serve bench-first-paint bench-drills bench-daycare serve-demo default-model yamnet-onnx clean

run: $(RUNTIME_STAMP)  ## set up the runtime and listen on the default microphone (no mic: the demo)
	@if $(BIN)/python -c "$(HAS_MICROPHONE)" 2>/dev/null; then \
		$(BIN)/miserymeter listen; \
	else \
		echo "No microphone on this machine: listening to the example night instead (make demo)."; \
		$(MAKE) --no-print-directory demo; \
	fi

demo: $(RUNTIME_STAMP)  ## listen to a 3-minute example night built from the bundled clips
	$(BIN)/python scripts/make_night.py --examples --seed 1 --ending_now --out $(DEMO_DIR)/night.flac
	rm -f $(DEMO_DIR)/demo.db*
	$(BIN)/miserymeter listen --input $(DEMO_DIR)/night.flac --room demo \
		--db $(DEMO_DIR)/demo.db --clips $(DEMO_DIR)/clips
	$(BIN)/miserymeter evaluate --night $(DEMO_DIR)/night.flac --truth $(DEMO_DIR)/night.csv

test: $(DEV_STAMP) $(SYSTEM_STAMP)  ## set up everything and run lint, types and all tests
	$(BIN)/ruff check .
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy
	$(BIN)/lint-imports
	MISERYMETER_REQUIRE_SYSTEM=1 $(BIN)/pytest -n 2 --dist loadfile

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(DEV_STAMP)  ## does it hear crying, not laughter: clips, nights, the rows to compare
	scripts/install_system_deps.sh bench
	$(BIN)/python bench/detector.py --corpus $(CORPUS)

validation-nights: $(DEV_STAMP)  ## make the validation nights the detector is tuned on (build/validation-nights)
	scripts/install_system_deps.sh bench
	$(BIN)/python bench/validation_nights.py --corpus $(CORPUS)

bench-microphones: $(DEV_STAMP)  ## the validation clips through other microphones and rooms (level, clipping, band, gain, echo)
	scripts/install_system_deps.sh bench
	$(BIN)/python bench/microphones.py --corpus $(CORPUS)

out-of-fold: $(DEV_STAMP)  ## score the training split by models trained without each fold of it (a rule to choose on)
	scripts/install_system_deps.sh bench
	$(BIN)/python bench/out_of_fold.py --corpus $(CORPUS)

bench-train: $(DEV_STAMP)  ## training and inference benchmark of the architectures
	$(BIN)/python bench/train.py --corpus $(CORPUS)

bench-train-load: $(DEV_STAMP)  ## training with the machine to itself and beside busy processes, per OpenMP wait policy
	$(BIN)/python bench/train_load.py --corpus $(CORPUS)

bench-listen: $(RUNTIME_STAMP)  ## CPU, memory, start-up and database size of `listen` on an hour; `classify`'s memory
	$(BIN)/python bench/listen.py

bench-record: $(DEV_STAMP) $(SYSTEM_STAMP)  ## CPU and memory of `record` on real-time input
	$(BIN)/python bench/record.py

bench-store: $(DEV_STAMP)  ## size and speed of the store for one night; POSTGRES=URL adds a server
	$(BIN)/python bench/store.py $(if $(POSTGRES),--postgres $(POSTGRES))

bench-serve: $(DEV_STAMP)  ## p50/p95 of every dashboard page and API call, 30 nights x 10 rooms
	$(BIN)/python bench/serve.py

bench-first-paint: $(DEV_STAMP) $(SYSTEM_STAMP)  ## first paint of every page in Chromium, desktop and a slowed phone, on the demo night
	test -f $(DEMO_DIR)/demo.db || $(MAKE) --no-print-directory demo
	$(BIN)/python bench/first_paint.py

bench-drills: $(DEV_STAMP) $(SYSTEM_STAMP)  ## faults made real (servers down, locks, kills): events lost, duplicated, delay
	$(BIN)/python bench/drills.py

ROOMS ?= 50
MINUTES ?= 10
bench-daycare: $(DEV_STAMP) $(SYSTEM_STAMP)  ## ROOMS listeners in real time into one PostgreSQL and mosquitto for MINUTES, serve answering
	$(BIN)/python bench/daycare.py --rooms $(ROOMS) --minutes $(MINUTES)

serve-demo: demo  ## the dashboard on the example night, at http://127.0.0.1:8000/
	$(BIN)/miserymeter serve --db $(DEMO_DIR)/demo.db --clips $(DEMO_DIR)/clips \
		--data_dir $(DEMO_DIR)/dataset

default-model: $(DEV_STAMP)  ## re-train the bundled default model from the cry corpus
	$(BIN)/python scripts/train_default_model.py --corpus $(CORPUS)

YAMNET_TFLITE ?= ../shared/models/yamnet/yamnet.tflite
CONVERTER := build/yamnet-converter
yamnet-onnx: $(DEV_STAMP)  ## convert YAMNet to the ONNX file the package ships (TensorFlow in a venv of its own)
	test -x $(CONVERTER)/bin/python || $(PYTHON) -m venv $(CONVERTER)
	$(CONVERTER)/bin/pip install --quiet tensorflow-cpu==2.21.0 tf2onnx==1.17.0
	$(CONVERTER)/bin/python scripts/convert_yamnet.py --tflite $(YAMNET_TFLITE) \
		--out src/miserymeter/models/yamnet.onnx
	$(BIN)/pytest -q tests/test_second_opinion.py

$(BIN)/python:
	scripts/bootstrap.sh $(PYTHON)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	scripts/install_system_deps.sh runtime
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	scripts/install_system_deps.sh runtime
	$(BIN)/pip install --quiet -e '.[train,dev]'
	touch $@ $(RUNTIME_STAMP)

$(SYSTEM_STAMP): scripts/install_system_deps.sh | $(BIN)/python
	scripts/install_system_deps.sh test
	touch $@

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
