//! `nixrs profile list|set|switch|rollback|delete-generations --profile P …`: the native
//! profile commands (same behaviour as the `nix-env` forms, plainer output).

use std::ffi::OsString;
use std::time::SystemTime;

use nix_store::profiles::{DeleteSpec, Profile};

use super::nix_env::generation_line;
use crate::util::{arg_str, CmdError, CmdResult};

const USAGE: &str = "usage: nixrs profile (list | set PATH | switch N | rollback | delete-generations SPEC…) --profile P [--store R]";

/// `nixrs profile …`.
pub fn main(args: &[OsString]) -> CmdResult {
    let Some(sub) = args.first() else {
        return Err(CmdError::usage(USAGE));
    };
    let sub = arg_str(sub)?;
    let mut profile = None;
    let mut store: Option<OsString> = None;
    let mut rest = Vec::new();
    let mut it = args[1..].iter();
    while let Some(x) = it.next() {
        match x.to_str() {
            Some("--profile" | "-p") => {
                profile = Some(
                    it.next()
                        .ok_or_else(|| CmdError::usage("'--profile' needs a path"))?
                        .clone(),
                )
            }
            Some("--store") => {
                store = Some(
                    it.next()
                        .ok_or_else(|| CmdError::usage("'--store' needs a root"))?
                        .clone(),
                )
            }
            _ => rest.push(x.clone()),
        }
    }
    let Some(profile) = profile else {
        return Err(CmdError::usage(USAGE));
    };
    match sub {
        "set" => {
            let profile_path = profile.clone();
            let mut fwd: Vec<OsString> = Vec::new();
            if let Some(s) = store {
                fwd.push("--store".into());
                fwd.push(s);
            }
            fwd.extend(["-p".into(), profile, "--set".into()]);
            fwd.extend(rest);
            super::nix_env::main(&fwd)?;
            let p = Profile::new(profile_path);
            println!("{}", p.current()?.unwrap_or(0));
            Ok(0)
        }
        "list" => {
            let p = Profile::new(profile);
            let current = p.current()?;
            for g in p.generations()? {
                println!("{}   {}", generation_line(&g, current), g.target.display());
            }
            Ok(0)
        }
        "switch" => {
            let [n] = rest.as_slice() else {
                return Err(CmdError::usage(USAGE));
            };
            let n: u64 = arg_str(n)?
                .parse()
                .map_err(|_| CmdError::usage("expected a generation number"))?;
            let (from, to) = Profile::new(profile).switch_generation(n)?;
            println!("switched from generation {from} to {to}");
            Ok(0)
        }
        "rollback" => {
            let (from, to) = Profile::new(profile).rollback()?;
            println!("switched from generation {from} to {to}");
            Ok(0)
        }
        "delete-generations" => {
            let specs: Vec<&str> = rest.iter().map(arg_str).collect::<Result<_, _>>()?;
            let spec = DeleteSpec::parse(&specs)?;
            for n in Profile::new(profile).delete_generations(&spec, SystemTime::now())? {
                println!("removed generation {n}");
            }
            Ok(0)
        }
        other => Err(CmdError::usage(format!(
            "unknown 'profile' subcommand '{other}'\n{USAGE}"
        ))),
    }
}
