//! `nix-cache-info`: `Name: value` lines. CppNix 2.8 writes `StoreDir: /nix/store\n` for a
//! new `file://` cache; `cache.nixos.org` adds `WantMassQuery: 1` and `Priority: 40`. Unknown
//! fields are ignored, as CppNix ignores them.

use super::CacheError;
use crate::store_path::StoreDir;

/// The file name.
pub(super) const FILE: &str = "nix-cache-info";

/// The contents of `nix-cache-info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheInfo {
    /// `StoreDir:` (the store directory the cache's paths live in).
    pub store_dir: String,
    /// `WantMassQuery:` (`1` = the cache wants to be queried for many paths at once).
    pub want_mass_query: Option<bool>,
    /// `Priority:` (lower is preferred; CppNix's default is 50).
    pub priority: Option<u64>,
}

impl CacheInfo {
    /// What CppNix writes for a new cache of `store_dir`: only `StoreDir`.
    pub fn new(store_dir: &StoreDir) -> CacheInfo {
        CacheInfo {
            store_dir: store_dir.as_str().to_string(),
            want_mass_query: None,
            priority: None,
        }
    }

    /// The priority, with CppNix's default of 50.
    pub fn priority_or_default(&self) -> u64 {
        self.priority.unwrap_or(50)
    }

    /// Parses the file; on failure returns the 1-based line and what is wrong.
    ///
    /// # Errors
    /// A line without `: `, a bad `WantMassQuery`/`Priority` value, or no `StoreDir`.
    pub fn parse(text: &str) -> Result<CacheInfo, (usize, String)> {
        let mut store_dir = None;
        let mut want_mass_query = None;
        let mut priority = None;
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            if line.trim().is_empty() {
                continue;
            }
            let Some((name, value)) = line.split_once(':') else {
                return Err((line_no, format!("expected 'Name: value', got '{line}'")));
            };
            let value = value.trim();
            match name.trim() {
                "StoreDir" => store_dir = Some(value.to_string()),
                "WantMassQuery" => {
                    want_mass_query = Some(match value {
                        "1" | "true" => true,
                        "0" | "false" => false,
                        _ => return Err((line_no, format!("bad WantMassQuery '{value}'"))),
                    })
                }
                "Priority" => {
                    priority = Some(
                        value
                            .parse()
                            .map_err(|_| (line_no, format!("bad Priority '{value}'")))?,
                    )
                }
                _ => {}
            }
        }
        let store_dir = store_dir.ok_or((0, "no StoreDir".to_string()))?;
        Ok(CacheInfo {
            store_dir,
            want_mass_query,
            priority,
        })
    }

    /// The file's text (`StoreDir` first, then the optional fields).
    pub fn to_text(&self) -> String {
        let mut s = format!("StoreDir: {}\n", self.store_dir);
        if let Some(w) = self.want_mass_query {
            s.push_str(&format!("WantMassQuery: {}\n", u8::from(w)));
        }
        if let Some(p) = self.priority {
            s.push_str(&format!("Priority: {p}\n"));
        }
        s
    }

    pub(super) fn check_store_dir(&self, url: &str, ours: &StoreDir) -> Result<(), CacheError> {
        if self.store_dir != ours.as_str() {
            return Err(CacheError::StoreDirMismatch {
                url: url.to_string(),
                cache: self.store_dir.clone(),
                ours: ours.as_str().to_string(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let text = "StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 40\n";
        let info = CacheInfo::parse(text).expect("valid");
        assert_eq!(info.priority, Some(40));
        assert_eq!(info.want_mass_query, Some(true));
        assert_eq!(info.to_text(), text);
        assert_eq!(
            CacheInfo::new(&StoreDir::default()).to_text(),
            "StoreDir: /nix/store\n"
        );
    }

    #[test]
    fn rejects_bad_files() {
        assert_eq!(CacheInfo::parse("Priority: x\n").map_err(|e| e.0), Err(1));
        assert_eq!(
            CacheInfo::parse("StoreDir: /nix/store\nnonsense\n").map_err(|e| e.0),
            Err(2)
        );
        assert!(CacheInfo::parse("Priority: 1\n").is_err());
        assert!(CacheInfo::parse("StoreDir: /nix/store\nFoo: bar\n").is_ok());
    }
}
