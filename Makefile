# Delta Pinyin: `make demo` sets everything up and runs the main job; `make test` runs the tests.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.installed
DEMO   := out/demo

.PHONY: setup system-deps ibus-deps lexicon demo test lint clean

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

# The system input method (ui/ibus): IBus, its GTK3 module and introspection data, a D-Bus
# session bus, xdotool for the end-to-end test, and PyGObject in the venv, built against
# Debian 12's GLib 2.74 (3.51 and later need GLib 2.80; docs/IBUS.md). Debian packages only
# when missing and only as root; PyGObject only where its build headers are installed.
IBUS_PKGS := ibus gir1.2-ibus-1.0 ibus-gtk3 gir1.2-gtk-3.0 python3-gi dbus-bin dbus-daemon \
	xvfb xdotool fonts-noto-cjk libgirepository1.0-dev libcairo2-dev pkg-config
PYGOBJECT := pygobject>=3.42,<3.51

ibus-deps: setup
	@if dpkg -s $(IBUS_PKGS) >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends $(IBUS_PKGS) >/dev/null; \
	else echo "ibus-deps: not root: install $(IBUS_PKGS) for the IBus engine and its tests"; fi
	@if $(PY) -c "import gi" 2>/dev/null; then :; \
	elif pkg-config --exists gobject-introspection-1.0 cairo 2>/dev/null; then \
	  $(PIP) install -q "$(PYGOBJECT)"; \
	else echo "ibus-deps: PyGObject not installed (needs libgirepository1.0-dev libcairo2-dev)"; fi

lexicon: setup
	$(PY) main.py lexicon build

demo: lexicon
	@mkdir -p $(DEMO)
	$(PY) main.py convert woshizhongguoren jintiantianqizhenhao zhongguorenmindaxue shurufa "xi'an" zgrm xianzai
	$(PY) main.py make-log benchmarks/data/sample.txt --out $(DEMO)/sample.jsonl
	$(PY) main.py replay $(DEMO)/sample.jsonl --json $(DEMO)/replay.json --plot $(DEMO)/replay.png
	@echo "demo: summary in $(DEMO)/replay.json, plot in $(DEMO)/replay.png"

test: setup system-deps ibus-deps
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) out .cache .pytest_cache
