//! `nixrs` store commands.
