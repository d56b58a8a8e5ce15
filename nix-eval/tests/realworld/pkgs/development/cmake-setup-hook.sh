cmakeConfigurePhase() {
  cmake -DCMAKE_INSTALL_PREFIX=$prefix $cmakeFlags .
}
if [ -z "${dontUseCmakeConfigure-}" ]; then configurePhase=cmakeConfigurePhase; fi
