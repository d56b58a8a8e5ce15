//! `nixrs` derivation commands.
