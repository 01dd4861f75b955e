# IOC Console: two commands on a fresh Debian/Ubuntu machine: `make run` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PKGS := xvfb xauth fonts-noto-cjk libegl1 libgl1 libglu1-mesa libosmesa6 libxkbcommon-x11-0 \
	libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-render-util0 libxcb-xinerama0 libxcb-xkb1 \
	libxcb-shape0 libxcb-xfixes0 libxcb-randr0 libxcb-image0 libdbus-1-3 libfontconfig1 libpulse0 \
	libpulse-mainloop-glib0 python3-venv
XVFB := xvfb-run -a -s "-screen 0 1920x1080x24 +extension GLX"

.PHONY: run test bench screenshots lint apt venv translations clean

$(VENV)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

# System libraries Qt and VTK need, Xvfb for tests, CJK fonts for the Chinese UI.
apt:
	@missing=$$(for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "apt-get install $$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

translations: venv
	$(BIN)/python -m resources.i18n.build

# Local sync service on SQLite with the simulated city, then the console.
run: apt venv translations
	$(BIN)/ioc-console --embedded

test: apt venv translations
	$(BIN)/ruff check .
	$(XVFB) $(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

bench: apt venv
	$(XVFB) $(BIN)/python -m bench $(BENCH_ARGS)

screenshots: apt venv translations
	$(XVFB) $(BIN)/python -m tools.screenshots

lint: venv
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) build *.egg-info
