#!/usr/bin/env bash
# Sets up (or reuses) the project's virtual environment: torch trio, pinned packages, the `mdr` command.
# Idempotent: a second call with unchanged pins returns at once.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${MDR_VENV:-.venv}
stamp="$VENV/.mdr-setup-$(cat requirements.txt constraints.txt pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)"
if [ -f "$stamp" ]; then
  echo "setup: $VENV is already up to date"
  exit 0
fi
# Debian packages: espeak-ng, festival with three voices and flite (speech synthesis for the
# text-speech model; festvox-us-slt-hts is held out for testing), chromium and its driver (tests/test_web.py
# drives the web page in a real browser).
missing=""
command -v espeak-ng >/dev/null 2>&1 || missing="$missing espeak-ng"
command -v festival >/dev/null 2>&1 || missing="$missing festival"
[ -d /usr/share/festival/voices/english/kal_diphone ] || missing="$missing festvox-kallpc16k"
[ -d /usr/share/festival/voices/english/ked_diphone ] || missing="$missing festvox-kdlpc16k"
[ -d /usr/share/festival/voices/us/cmu_us_slt_arctic_hts ] || missing="$missing festvox-us-slt-hts"
command -v flite >/dev/null 2>&1 || missing="$missing flite"
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v chromedriver >/dev/null 2>&1 || missing="$missing chromium-driver"
if [ -n "$missing" ]; then
  echo "setup: installing$missing (apt-get)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq $missing >/dev/null
fi
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
pip() { "$VENV/bin/python" -m pip "$@"; }
echo "setup: installing torch, torchvision (a CUDA build from local disk, about a minute)"
pip install -q torch==2.14.1 torchvision==0.29.1
# torchaudio has no release matching torch 2.14.1; 2.11.0 without its deps imports and runs the
# MelSpectrogram/MFCC transforms (tests/test_torchaudio.py keeps that true).
pip install -q --no-deps torchaudio==2.11.0
echo "setup: installing pinned packages"
pip install -q -r requirements.txt -c constraints.txt
pip install -q --no-deps --no-build-isolation -e .
# dvc needs a git repository; a tarball copy of the project gets one here.
git rev-parse --git-dir >/dev/null 2>&1 || git init -q
rm -f "$VENV"/.mdr-setup-*
touch "$stamp"
echo "setup: done ($VENV)"
