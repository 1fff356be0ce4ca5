# scp-scanner: set up and run on a fresh Debian 12 machine (as root, or with sudo).
#   make serve   Debian packages + .venv with the default engines, then the SCP (config/scp-scanner.yaml)
#                [HOST=0.0.0.0] [PORT=11112] [CONFIG=my.yaml] override the configuration's values
#   make test    Debian packages + .venv with every engine and test tool, then the whole test suite

PYTHON ?= python3
# make serve HOST=0.0.0.0 PORT=104 CONFIG=/etc/scp-scanner.yaml: empty = the configuration's value
# (network.host is 127.0.0.1 in config/scp-scanner.yaml: this machine only).
CONFIG ?= config/scp-scanner.yaml
HOST   ?=
PORT   ?=
VENV   := .venv
BIN    := $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# tesseract for OCR (rapidocr, the default engine, comes from pip with its models); the rest only
# for the tests (fonts for synthetic text, dcmtk and Orthanc as real DICOM peers, openssl for the
# TLS test CA, headless Chromium for the review page). APT_FONTS: the benchmark's two font sets
# (tests/dicomgen.py FONT_FAMILIES): tuning = DejaVu, Liberation, X11 misc-fixed bitmaps;
# held out = FreeFont, Noto Mono, Terminus, X11 Clean bitmaps (xfonts-base holds both bitmaps).
APT_SERVE := tesseract-ocr tesseract-ocr-eng
APT_FONTS := fonts-dejavu-core fonts-dejavu-extra fonts-liberation2 fonts-liberation \
             fonts-freefont-ttf fonts-noto-mono fonts-terminus xfonts-base
APT_TEST  := $(APT_SERVE) $(APT_FONTS) dcmtk orthanc openssl \
             chromium chromium-driver
# Only for making the recogniser's training lines (docs/recogniser.md): the `extra` families,
# which no benchmark reports on.
APT_TRAIN := fonts-roboto-unhinted fonts-open-sans fonts-lato fonts-cantarell fonts-go fonts-hack \
             fonts-inconsolata fonts-jetbrains-mono fonts-anonymous-pro fonts-courier-prime \
             fonts-crosextra-carlito fonts-crosextra-caladea fonts-unifont fonts-monoid \
             fonts-firacode xfonts-x3270-misc xfonts-75dpi xfonts-100dpi

.PHONY: serve test bytecode apt-serve apt-test apt-train clean

serve: apt-serve $(VENV)/.installed-serve bytecode
	$(BIN)/scp-scanner serve --config "$(CONFIG)" $(if $(HOST),--host "$(HOST)") $(if $(PORT),--port "$(PORT)")

# SCP_SCANNER_NO_SKIP=1: everything was installed, so a test skipped for a missing tool fails.
test: apt-test $(VENV)/.installed-test bytecode
	SCP_SCANNER_NO_SKIP=1 $(BIN)/python -m pytest

# scp_scanner's own bytecode, written ahead: the package is installed editable, so Python
# compiles its modules on import, and where PYTHONDONTWRITEBYTECODE is set it does so again in
# every process of every run (all 84 modules: 0.15 s; a worker imports half of them).
# compileall skips the modules whose bytecode is up to date.
bytecode: | $(VENV)/bin/python
	$(BIN)/python -m compileall -q scp_scanner

apt-serve:
	@./scripts/apt-install.sh $(APT_SERVE)

apt-test:
	@./scripts/apt-install.sh $(APT_TEST)

apt-train: apt-test
	@./scripts/apt-install.sh $(APT_TRAIN)

$(VENV)/bin/python:
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || ./scripts/apt-install.sh python3-venv
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Default engines only (rapidocr, tesseract, spaCy): what the SCP needs.
$(VENV)/.installed-serve: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install -q -e .
	@touch $@

# Everything: easyocr and flair extras, dask and test tools, at the tested versions (constraints.txt).
$(VENV)/.installed-test: pyproject.toml constraints.txt | $(VENV)/bin/python
	$(BIN)/pip install -q -c constraints.txt -e '.[easyocr,flair,dask,test]'
	@touch $@ $(VENV)/.installed-serve

clean:
	rm -rf $(VENV) build *.egg-info
