# The two commands of the README: `make run` and `make test`. Everything else is a building block.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export QT_QPA_PLATFORM ?= $(if $(DISPLAY)$(WAYLAND_DISPLAY),,offscreen)

.PHONY: run test setup system-deps test-deps lint typecheck imports unit screenshots bench admx extract-messages \
	update-catalogs compile-catalogs check-catalogs init-catalog clean
.PHONY: packaging-deps bundle msi

# Fonts for every script the kiosk ships or will ship, so no text renders as tofu boxes (also
# offscreen, in screenshots): Noto core covers Latin, Cyrillic, Greek, Arabic, Hebrew, Thai,
# Devanagari and the other Indic scripts; Noto CJK covers Chinese (Hans/Hant), Japanese and Korean.
FONT_PACKAGES := fonts-noto-core fonts-noto-cjk

# The CAPTCHA read aloud in the user's language (the backend runs espeak-ng; without a voice for the
# language, or without espeak-ng, it falls back to the captcha package's English voice).
SPEECH_PACKAGES := espeak-ng

# Qt's runtime libraries on Debian/Ubuntu: OpenGL/EGL, fonts, and what the xcb (X11) platform
# plugin loads on a desktop (since Qt 6.5 it refuses to start without libxcb-cursor0).
QT_SYSTEM_PACKAGES := libegl1 libgl1 libfontconfig1 libdbus-1-3 fonts-dejavu-core libxkbcommon0 \
	libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 \
	libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxcb-xfixes0 $(FONT_PACKAGES) \
	$(SPEECH_PACKAGES)

# System libraries Qt needs (Debian/Ubuntu). Runs only where apt-get exists and we are root;
# elsewhere it prints what to install.
system-deps:
	@if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  missing=$$(for p in $(QT_SYSTEM_PACKAGES); do \
	    dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	  if [ -n "$$missing" ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq $$missing; fi; \
	else echo "(not root or no apt-get: make sure Qt's libraries libEGL, libGL, libxkbcommon, fontconfig and espeak-ng are installed)"; fi

# The real directory servers the live tests start (OpenLDAP slapd + ppolicy, Samba AD DC): only
# `make test` needs them, never `make run`. Installs only what is missing, as root with apt-get.
# debconf is preseeded so slapd's postinst creates no database and asks nothing; apt-get starts
# no service here (policy-rc.d exits 101), and the tests start their own throwaway instances.
# Not root or no apt-get: it says so, and the live-server tests then fail with the same message.
LIVE_SERVER_PACKAGES := slapd ldap-utils samba samba-ad-dc samba-ad-provision winbind

# The shared backend's replica tests (issue 12, part 5; tests/shared_backend): a throwaway PostgreSQL
# cluster (initdb in a temporary folder) and HAProxy run in the foreground with the test's own config.
# Before postgresql is installed, a createcluster.d drop-in (create_main_cluster = false) stops its
# postinst from creating the default cluster 15/main: nothing the tests do not need is left on disk.
# With systemd running, apt-get starts the freshly installed haproxy service (Debian's empty config):
# it is stopped and disabled again. Neither service is ever needed by the tests.
SHARED_BACKEND_PACKAGES := postgresql haproxy
PG_NO_MAIN_CLUSTER := /etc/postgresql-common/createcluster.d/kiosk-tests-no-main-cluster.conf

# The screen-reader test (issue 15, part 1; tests/a11y): the kiosk runs on an Xvfb display with its own
# D-Bus session and AT-SPI accessibility bus (at-spi-bus-launcher), and Debian's python3-pyatspi, run
# with the system Python the way Orca runs it, reads the tree the kiosk exports, from another process.
A11Y_PACKAGES := xvfb dbus-daemon at-spi2-core python3-pyatspi

test-deps:
	@if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  missing=$$(for p in $(LIVE_SERVER_PACKAGES) $(SHARED_BACKEND_PACKAGES) $(A11Y_PACKAGES); do \
	    [ "$$(dpkg-query -W -f='$${Status}' $$p 2>/dev/null)" = "install ok installed" ] || echo $$p; done); \
	  if [ -n "$$missing" ]; then \
	    echo "test-deps: installing" $$missing; \
	    echo "slapd slapd/no_configuration boolean true" | debconf-set-selections && \
	    if echo " $$missing " | grep -q " postgresql "; then \
	      mkdir -p $$(dirname $(PG_NO_MAIN_CLUSTER)) && \
	      printf '%s\n' "# written by the kiosk's make test-deps: no default cluster (the tests make their own)" \
	        "create_main_cluster = false" > $(PG_NO_MAIN_CLUSTER); fi && \
	    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
	      --no-install-recommends $$missing && \
	    if echo " $$missing " | grep -q " haproxy " && [ -d /run/systemd/system ]; then \
	      systemctl disable --now haproxy; fi; fi; \
	else echo "test-deps: not root or no apt-get, so the live-server, replica and screen-reader tests will fail:" \
	  "install $(LIVE_SERVER_PACKAGES) $(SHARED_BACKEND_PACKAGES) $(A11Y_PACKAGES) (Debian/Ubuntu names) yourself, then rerun make test"; fi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

setup: system-deps $(STAMP) compile-catalogs

# Not the offscreen default above (a window nobody would see): without a display `kiosk` says what to do.
run: setup
	$(if $(filter file,$(origin QT_QPA_PLATFORM)),env -u QT_QPA_PLATFORM )$(BIN)/kiosk --demo

# actionlint: the Windows build job (.github/workflows/windows.yml) cannot run here, so it is at least checked.
lint: setup
	$(BIN)/ruff check kiosk tests bench
	$(BIN)/actionlint .github/workflows/*.yml

# The second run type-checks the registry reader's Windows-only branch as on Windows (winreg's stubs).
typecheck: setup
	$(BIN)/mypy
	$(BIN)/mypy --platform win32 kiosk/policy/group_policy.py

imports: setup
	$(BIN)/lint-imports

# The backend's tests run twice: as they are (SQLite), then with every backend they open on a fresh
# database of a throwaway PostgreSQL cluster the run starts (tests/services/backend/conftest.py); the
# live-directory tests there are about LDAP, not the store, and run once.
unit: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest
	KIOSK_TEST_STORE=postgresql QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest tests/services/backend \
	  --ignore=tests/services/backend/directories

test: setup test-deps packaging-deps lint typecheck imports check-catalogs bundle msi unit

screenshots: setup
	QT_QPA_PLATFORM=offscreen $(BIN)/kiosk screenshots --out screenshots

bench: setup bundle
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/startup.py --frozen $(BUNDLE)
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/ui_stalls.py
	$(BIN)/python bench/enumeration.py

# 100 simulated kiosks' whole resets: two replicas on a throwaway PostgreSQL behind HAProxy, then one SQLite
# process (README, "Capacity: busy, deadlines and retries"); BENCH_ARGS=--quick for 10 kiosks.
.PHONY: bench-shared
bench-shared: setup test-deps
	$(BIN)/python bench/shared_backend.py $(BENCH_ARGS)

# Group Policy templates generated from the policy schema (README, "Group Policy"): build output in
# dist/admx (AccountRecoveryKiosk.admx + en-US/AccountRecoveryKiosk.adml), never edited by hand.
admx: $(STAMP)
	$(BIN)/kiosk policy admx --out dist/admx

# gettext, the standard pybabel workflow (README, "Translations"): extract the template from the
# sources, merge it into every catalog, compile the catalogs (.mo files are build output, made by
# `make setup`), and check them (complete, no fuzzy entries, same placeholders, compiles).
PYBABEL := $(BIN)/pybabel
CATALOGS := $(wildcard translations/*/LC_MESSAGES/messages.po)

extract-messages: $(STAMP)
	$(PYBABEL) -q extract -F babel.cfg -o translations/messages.pot \
	  --project=account-recovery-kiosk --version=0.1.0 --copyright-holder=Contoso \
	  --msgid-bugs-address=helpdesk@contoso.example .

update-catalogs: $(STAMP)
	$(PYBABEL) -q update -i translations/messages.pot -d translations -D messages --ignore-obsolete

# A new language: make init-catalog LOCALE=pt_BR (then translate, update and check it).
init-catalog: $(STAMP)
	@test -n "$(LOCALE)" || { echo "usage: make init-catalog LOCALE=xx[_YY]"; exit 2; }
	$(PYBABEL) -q init -i translations/messages.pot -d translations -D messages -l $(LOCALE)

compile-catalogs: $(STAMP)
	@if [ -n "$(CATALOGS)" ]; then $(PYBABEL) -q compile -d translations -D messages; fi

check-catalogs: $(STAMP)
	$(BIN)/python -m kiosk.i18n.catalogs translations

# Packaging (README, "Packaging: portable bundle and MSI"). The one-folder bundle dist/kiosk/ is
# built by PyInstaller from packaging/kiosk.spec, again only when a source, catalog (.po: `setup`
# rewrites every .mo) or resource is newer than it; tests/packaging runs it (self-test,
# check-install, screenshots, policy check). The MSI is built from it with wixl (Debian packages
# msitools and wixl) and read back by tests/packaging with msiinfo and msiextract. gcc assembles the
# bundle's smaller ICU data library (packaging/icu_data.py).
PACKAGING_PACKAGES := msitools wixl gcc
BUNDLE := dist/kiosk/kiosk
BUNDLE_SOURCES = $(shell find kiosk resources packaging translations -type f -not -path '*/__pycache__/*' \
	\( -name '*.py' -o -name '*.toml' -o -name '*.svg' -o -name '*.po' -o -name '*.spec' \)) pyproject.toml
MSI_SOURCES := packaging/kiosk.wxs packaging/make_wxs.py packaging/build_msi.py kiosk/product.py
MSI := dist/AccountRecoveryKiosk-$(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)-x64.msi

packaging-deps:
	@if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  missing=$$(for p in $(PACKAGING_PACKAGES); do \
	    [ "$$(dpkg-query -W -f='$${Status}' $$p 2>/dev/null)" = "install ok installed" ] || echo $$p; done); \
	  if [ -n "$$missing" ]; then \
	    echo "packaging-deps: installing $$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
	      --no-install-recommends $$missing; fi; \
	else echo "packaging-deps: not root or no apt-get, so make msi and the MSI tests will fail:" \
	  "install $(PACKAGING_PACKAGES) (Debian/Ubuntu names) yourself"; fi

# Recursive, so the prerequisites are listed after `setup` has compiled the catalogs.
bundle: setup
	@$(MAKE) --no-print-directory $(BUNDLE)

# flock: tests/packaging holds the same lock (shared) while it runs the bundle, so a rebuild waits.
$(BUNDLE): $(BUNDLE_SOURCES)
	@mkdir -p build
	flock build/.bundle.lock $(BIN)/python -m PyInstaller --noconfirm --log-level WARN --distpath dist \
	  --workpath build/pyinstaller packaging/kiosk.spec
	@touch $@
	@du -sh dist/kiosk | sed 's/\t.*/ dist\/kiosk/'

msi: bundle packaging-deps
	@$(MAKE) --no-print-directory $(MSI)

$(MSI): $(BUNDLE) $(MSI_SOURCES)
	@mkdir -p build
	flock build/.msi.lock $(BIN)/python packaging/build_msi.py dist/kiosk --out $@

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache screenshots dist build
