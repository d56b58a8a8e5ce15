//! `nixrs` eval commands.
