# Generic build script of the realworld corpus (never run: the corpus is only instantiated).
set -eu
runHook() {
  local hook="$1"
  eval "${!hook:-}"
}
genericBuild() {
  for phase in ${phases:-unpackPhase patchPhase configurePhase buildPhase checkPhase installPhase fixupPhase}; do
    if [ -n "${!phase:-}" ]; then eval "${!phase}"; else "default_$phase"; fi
  done
}
default_unpackPhase() { tar xf "$src"; cd "${sourceRoot:-*}"; }
default_patchPhase() { for p in ${patches:-}; do patch -p1 < "$p"; done; runHook postPatch; }
default_configurePhase() { ./configure --prefix="$out" ${configureFlags:-}; }
default_buildPhase() { make ${makeFlags:-} ${buildFlags:-}; }
default_checkPhase() { if [ -n "${doCheck:-}" ]; then make check; fi; }
default_installPhase() { make install ${installFlags:-}; runHook postInstall; }
default_fixupPhase() { runHook postFixup; }
