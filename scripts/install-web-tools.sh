#!/usr/bin/env bash
# Installs what scripts/build-web.sh needs, where missing: the wasm32-unknown-unknown target
# and wasm-bindgen-cli at the version Cargo.lock pins (the CLI and the crate must match).
# `--version` only prints that version.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [[ "${1:-}" == "--version" ]]; then
  echo "$version"
  exit 0
fi
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi
if [[ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$version" ]]; then
  cargo install wasm-bindgen-cli --version "$version"
fi
