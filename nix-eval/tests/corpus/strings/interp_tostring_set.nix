"${{ __toString = _: "ok"; }}"
