#!/usr/bin/env bash
# Regenerates the expected outputs (<case>.exp) of the evaluator's differential corpus by
# running the reference CppNix 2.8 `nix-instantiate` on every case.
#
# A case is any `*.nix` file below this directory that has no `helpers` directory in its
# path. Its first line may be `# nixrs-flags: FLAGS`; the command is then
#     nix-instantiate --eval FLAGS FILE
# (FLAGS default to `--strict`; single quotes group words, as in a shell), run from the
# case's directory with FILE its base name, and with a fixed environment:
#     HOME=/homeless-shelter  NIX_PATH=corpus=@CORPUS@/imports/helpers:@CORPUS@/helpers/nixpath
#     TZ=UTC LANG=C  PATH=(unchanged)
# The absolute path of this directory is written as @CORPUS@ in the .exp files.
#
# .exp format (lengths in bytes, after the substitution):
#     exit: CODE\nstdout: LEN\n<stdout bytes>\nstderr: LEN\n<stderr bytes>\n
#
# Usage: make_baseline.sh [CASE.nix…]   (default: every case)
# NIXRS_REFERENCE_BIN=DIR selects the directory of the reference nix-instantiate.
set -euo pipefail

corpus="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
bin="${NIXRS_REFERENCE_BIN:+$NIXRS_REFERENCE_BIN/}nix-instantiate"
command -v "$bin" >/dev/null || { echo "make_baseline.sh: $bin not found" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Escape the corpus path for use as a literal sed pattern.
pat="$(printf '%s' "$corpus" | sed 's/[][\.*^$/|]/\\&/g')"

if [ "$#" -gt 0 ]; then
    cases=("$@")
else
    mapfile -t cases < <(cd "$corpus" && find . -name '*.nix' -not -path '*/helpers/*' | sed 's|^\./||' | LC_ALL=C sort)
fi

n=0
for rel in "${cases[@]}"; do
    rel="${rel#./}"
    file="$corpus/$rel"
    dir="$(dirname "$file")"
    base="$(basename "$file")"
    first="$(head -n 1 "$file")"
    if [[ "$first" == "# nixrs-flags:"* ]]; then
        flags="${first#\# nixrs-flags:}"
    else
        flags="--strict"
    fi
    eval "set -- $flags"
    set +e
    (cd "$dir" && env -i PATH="$PATH" HOME=/homeless-shelter TZ=UTC LANG=C \
        NIX_PATH="corpus=$corpus/imports/helpers:$corpus/helpers/nixpath" \
        timeout 60 "$bin" --eval "$@" "$base" >"$tmp/out" 2>"$tmp/err" </dev/null)
    code=$?
    set -e
    sed "s/$pat/@CORPUS@/g" "$tmp/out" >"$tmp/out2"
    sed "s/$pat/@CORPUS@/g" "$tmp/err" >"$tmp/err2"
    {
        printf 'exit: %d\nstdout: %d\n' "$code" "$(wc -c <"$tmp/out2")"
        cat "$tmp/out2"
        printf '\nstderr: %d\n' "$(wc -c <"$tmp/err2")"
        cat "$tmp/err2"
        printf '\n'
    } >"${file%.nix}.exp"
    n=$((n + 1))
done
echo "make_baseline.sh: wrote $n .exp files"
