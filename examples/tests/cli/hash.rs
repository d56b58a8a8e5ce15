//! `nixrs` hash commands.
