#!/usr/bin/env bash
# The main job, as far as it goes today: build `nixrs` and use it the way a tool around Nix
# would. Today: dump a file tree to a NAR, hash it, restore it, and check that the restored tree
# dumps to the same bytes (and, when CppNix is installed, that CppNix agrees byte for byte).
set -euo pipefail
cd "$(dirname "$0")"
cargo build --release -q -p nixrs-examples --bin nixrs
nixrs=$PWD/target/release/nixrs
src=${1:-$PWD/nix-nar/src}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

"$nixrs" nar dump "$src" > "$work/a.nar"
echo "NAR of $src: $(wc -c < "$work/a.nar") bytes"
echo "NAR hash: $("$nixrs" hash path --type sha256 --base32 "$src")"
"$nixrs" nar restore "$work/restored" < "$work/a.nar"
"$nixrs" nar dump "$work/restored" > "$work/b.nar"
cmp "$work/a.nar" "$work/b.nar" && echo "round-trip: identical"
"$nixrs" nar ls -R "$work/a.nar" | head -n 20
if command -v nix-store >/dev/null; then
  nix-store --dump "$src" | cmp - "$work/a.nar" && echo "CppNix nix-store --dump: identical"
fi
