"plain from NIX_PATH"
