# gpushare — the commands a newcomer needs:
#   make demo       installs missing Debian packages, builds, replays the openb trace: the FGD
#                   study's six policies and the project's `best`, table + plot, and the cluster
#                   view of best's end state (demo_end_best.html)
#   make notebook   the Jupyter kernel `gpushare` (this venv) for examples/notebooks
#   make test       same set-up, then every C++ and Python test
# Other targets: build, python, quickstart, bench, clean.

SHELL := /bin/bash
BUILD ?= build
JOBS ?= 2
VENV ?= .venv
PY := $(VENV)/bin/python
DATA ?= ../shared/data

DEB_PACKAGES := cmake g++ make pkg-config libeigen3-dev pybind11-dev python3-pybind11 catch2 libbenchmark-dev \
  nlohmann-json3-dev libcpp-httplib-dev libssl-dev libyaml-cpp-dev openssl python3-dev python3-venv python3-pip python3-setuptools \
  python3-wheel python3-numpy python3-pandas python3-matplotlib python3-pytest python3-hypothesis \
  python3-nbclient python3-nbformat python3-ipykernel python3-notebook python3-dask python3-distributed python3-scipy \
  python3-yaml etcd-server libgrpc++-dev protobuf-compiler protobuf-compiler-grpc chromium

.PHONY: all deps build build-asan build-fuzz python notebook test test-cpp test-asan test-python test-e2e kube demo quickstart bench fuzz clean

all: build

# Installs only what is missing; apt-get update runs once, when something is.
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:" $$missing; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DGPUSHARE_BUILD_TESTS=ON -DGPUSHARE_BUILD_EXAMPLES=ON \
	  -DGPUSHARE_BUILD_BENCHMARKS=ON >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

# The Python package, installed into .venv made from Debian's interpreter (see DEVELOPERS.md).
$(VENV)/bin/python:
	/usr/bin/python3 -m venv --system-site-packages $(VENV)

python: deps $(VENV)/bin/python
	GPUSHARE_BUILD_JOBS=$(JOBS) $(PY) -m pip install --quiet --no-build-isolation --no-index --no-deps .

# The Jupyter kernel the notebooks in examples/notebooks declare: `gpushare`, running this venv's
# Python, installed inside the venv (.venv/share/jupyter/kernels/gpushare), so nothing goes to
# the system or the home directory.  Jupyter finds it when it runs from the venv too:
#   .venv/bin/python -m notebook examples/notebooks
notebook: python
	$(PY) -m ipykernel install --sys-prefix --name gpushare --display-name "Python (gpushare .venv)"
	@echo "open the notebooks with: $(PY) -m notebook examples/notebooks"

test-cpp: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# The C++ tests again under AddressSanitizer + UndefinedBehaviorSanitizer (any report fails).
# -O1 -g1: line numbers in reports, and a third less compile time than RelWithDebInfo.
build-asan: deps
	cmake -S . -B $(BUILD)-asan -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="-O1 -g1" -DGPUSHARE_BUILD_TESTS=ON \
	  -DGPUSHARE_BUILD_EXAMPLES=OFF -DGPUSHARE_SANITIZE=ON >/dev/null
	cmake --build $(BUILD)-asan -j $(JOBS)

test-asan: build-asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(BUILD)-asan --output-on-failure -j $(JOBS)

# build: the browser test runs gpushare-extender; notebook: the notebook test runs their kernel.
test-python: build notebook
	$(PY) -m pytest -q -p no:cacheprovider tests/python

# The end-to-end suite against a real etcd + kube-apiserver + kube-scheduler on loopback.
# kube-apiserver and kube-scheduler v1.20.2 are built from Debian's source package once into a
# cache folder outside the clone (about 15 minutes on 2 cores; see tests/e2e/build-kube.sh) and
# reused by every later run on the same machine.
kube: deps
	tests/e2e/build-kube.sh

test-e2e: build python kube
	GPUSHARE_KUBE_BIN=$$(tests/e2e/build-kube.sh | tail -1) GPUSHARE_BUILD=$(BUILD) \
	  $(PY) -m pytest -q -p no:cacheprovider tests/e2e

test: test-cpp test-asan test-python test-e2e

# libFuzzer targets (fuzz/fuzz_*.cpp), each run for FUZZ_SECONDS with its corpus in
# $(BUILD)-fuzz/corpus/NAME, seeded from fuzz/corpus/NAME (small hand-made inputs, kept in git)
# and from the ../shared/data folders fuzz/seeds.txt names for it.
FUZZ_SECONDS ?= 60
FUZZ_PACKAGES := clang libclang-rt-14-dev
build-fuzz: deps
	@missing=$$(for p in $(FUZZ_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; fi
	CXX=clang++ cmake -S . -B $(BUILD)-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGPUSHARE_BUILD_TESTS=OFF \
	  -DGPUSHARE_BUILD_EXAMPLES=OFF -DGPUSHARE_BUILD_FUZZERS=ON >/dev/null
	cmake --build $(BUILD)-fuzz -j $(JOBS)

fuzz: build-fuzz
	@set -e; for f in $(BUILD)-fuzz/fuzz/fuzz_*; do [ -x "$$f" ] || continue; n=$$(basename $$f); \
	  mkdir -p $(BUILD)-fuzz/corpus/$$n; echo "== $$n ($(FUZZ_SECONDS) s)"; \
	  seeds=$$(awk -v n=$$n '$$1 == n { for (i = 2; i <= NF; i++) printf "$(DATA)/%s ", $$i }' fuzz/seeds.txt); \
	  [ -d fuzz/corpus/$$n ] && seeds="$$seeds fuzz/corpus/$$n"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(BUILD)-fuzz/corpus/$$n $$seeds 2>&1 | \
	  grep -E "^(stat::number_of_executed_units|stat::new_units_added|#[0-9]+[[:space:]]+DONE|==|SUMMARY)" || true; \
	  done

# The FGD study's experiment on the openb default trace: its six policies and the project's own
# `best`, three seeds; prints the medians at 100% arrived demand (and each policy against FGD),
# writes demo_replay.png; then best once more with one seed, whose end state is written as an
# inspect document and drawn as the cluster view demo_end_best.html (open it in a browser).
DEMO_SEEDS ?= 42-44
DEMO_VIEW_SEED ?= 42
demo: python
	$(PY) -m gpushare replay --nodes $(DATA)/openb/openb_node_list_gpu_node.csv \
	  --pods $(DATA)/openb/openb_pod_list_default.csv --policy all,best --seeds $(DEMO_SEEDS) --plot demo_replay.png
	$(PY) -m gpushare replay --nodes $(DATA)/openb/openb_node_list_gpu_node.csv \
	  --pods $(DATA)/openb/openb_pod_list_default.csv --policy best --seeds $(DEMO_VIEW_SEED) --snapshot demo_end_best.json
	$(PY) -m gpushare inspect --file demo_end_best.json --html demo_end_best.html

quickstart: build
	$(BUILD)/examples/quickstart

bench: build
	$(BUILD)/bench/bench_schedule --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
	$(BUILD)/bench/bench_sim

clean:
	rm -rf $(BUILD) $(VENV) *.egg-info python/*.egg-info
