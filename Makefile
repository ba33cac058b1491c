# Delta Pinyin: `make demo` sets everything up and runs the main job; `make test` runs the tests.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.installed
DEMO   := out/demo

.PHONY: setup system-deps lexicon demo test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	# torch first, pinned, so that no other requirement pulls a multi-GB CUDA build
	$(PY) -c "import torch" 2>/dev/null || $(PIP) install -q torch==2.13.0
	$(PIP) install -q -e ".[lm,kernels,ui,dev]"
	touch $(STAMP)

setup: $(STAMP)

# Debian packages for the UI tests (virtual screen, CJK fonts, Qt's xcb libraries);
# installed only when missing, and only as root.
SYSTEM_PKGS := xvfb fonts-noto-cjk libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 \
	libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0 libegl1 \
	libfontconfig1 libdbus-1-3

system-deps:
	@if dpkg -s $(SYSTEM_PKGS) >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PKGS) >/dev/null; \
	else echo "system-deps: not root: install $(SYSTEM_PKGS) for the UI screenshot test"; fi

lexicon: setup
	$(PY) main.py lexicon build

demo: lexicon
	@mkdir -p $(DEMO)
	$(PY) main.py convert woshizhongguoren jintiantianqizhenhao zhongguorenmindaxue shurufa "xi'an" zgrm xianzai
	$(PY) main.py make-log benchmarks/data/sample.txt --out $(DEMO)/sample.jsonl
	$(PY) main.py replay $(DEMO)/sample.jsonl --json $(DEMO)/replay.json --plot $(DEMO)/replay.png
	@echo "demo: summary in $(DEMO)/replay.json, plot in $(DEMO)/replay.png"

test: setup system-deps
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) out .cache .pytest_cache
