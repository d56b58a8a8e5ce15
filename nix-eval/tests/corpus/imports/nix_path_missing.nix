<nonexistent-entry/file.nix>
