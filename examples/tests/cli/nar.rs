//! `nixrs` nar commands.
