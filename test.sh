#!/usr/bin/env bash
# Runs every test of the workspace. Works on a fresh Debian machine with the Rust toolchain:
# installs the reference CppNix 2.8 (Debian's nix-bin) when it is missing, then runs the unit,
# integration, differential and doc tests, and the lints.
#
#   ./test.sh            everything
#   ./test.sh --quick    cargo tests only (no clippy/fmt)
set -euo pipefail
cd "$(dirname "$0")"

need_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v nix-store >/dev/null 2>&1 || ! command -v nix-instantiate >/dev/null 2>&1 || [ ! -x /bin/busybox ] || ! command -v hg >/dev/null 2>&1; then
  echo "== installing the reference CppNix (Debian nix-bin), a static busybox (build tests), git and mercurial (fetcher tests)"
  need_root apt-get update -qq
  need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nix-bin busybox-static git mercurial >/dev/null
fi
echo "== reference: $(nix-store --version)"

# Differential tests run the reference against throwaway store roots (--store DIR); some
# reference commands still want the default state directories to exist.
if [ "$(id -u)" = 0 ]; then mkdir -p /nix/var/nix/gcroots /nix/var/nix/profiles /nix/store; fi

if [ "${1:-}" != "--quick" ]; then
  echo "== cargo fmt --check"
  cargo fmt --all -- --check
  echo "== cargo clippy"
  cargo clippy --workspace --all-targets -- -D warnings
fi

echo "== cargo test"
cargo test --workspace --no-fail-fast
