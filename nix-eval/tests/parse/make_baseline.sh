#!/usr/bin/env bash
# Writes NAME.exp for every NAME.nix here from CppNix 2.8's `nix-instantiate --parse NAME.nix`:
# a JSON object {"rc", "stdout", "stderr"} where this directory's absolute path is replaced by
# @DIR@ and $HOME is /homeless-shelter. The data-driven test `parse::fixtures` compares ours
# against these byte for byte.
#
# Usage: nix-eval/tests/parse/make_baseline.sh          (only cases without .exp)
#        NIXRS_REGENERATE=1 nix-eval/tests/parse/make_baseline.sh   (all cases)
set -euo pipefail
cd "$(dirname "$0")"
dir=$(pwd)
bin=${NIXRS_REFERENCE_BIN:-}
nix_instantiate=${bin:+$bin/}nix-instantiate
for f in *.nix; do
    exp="${f%.nix}.exp"
    if [[ -e "$exp" && "${NIXRS_REGENERATE:-}" != 1 ]]; then
        continue
    fi
    set +e
    HOME=/homeless-shelter "$nix_instantiate" --parse "$dir/$f" >/tmp/nixrs-parse-out.$$ 2>/tmp/nixrs-parse-err.$$
    rc=$?
    set -e
    python3 - "$dir" "$rc" "$exp" /tmp/nixrs-parse-out.$$ /tmp/nixrs-parse-err.$$ <<'PY'
import json, sys
d, rc, exp, out, err = sys.argv[1:]
def rd(p):
    return open(p, 'rb').read().decode('utf-8', 'surrogateescape').replace(d, '@DIR@')
json.dump({"rc": int(rc), "stdout": rd(out), "stderr": rd(err)},
          open(exp, 'w', encoding='utf-8', errors='surrogateescape'), ensure_ascii=False, indent=1)
open(exp, 'a').write('\n')
PY
done
rm -f /tmp/nixrs-parse-out.$$ /tmp/nixrs-parse-err.$$
