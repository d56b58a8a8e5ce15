//! What a store knows about a valid path: [`PathInfo`] (CppNix's `ValidPathInfo`), its signing
//! fingerprint, and the JSON of `nix path-info --json`.
//!
//! # JSON (CppNix 2.8 `nix path-info --json`)
//! A JSON **array** with one object per path, keys in this order, absent ones omitted:
//! `path` (full path), `narHash` (SRI, e.g. `sha256-HDfQ…/BM=`), `narSize`, `references` (full
//! paths, sorted), `ca`, `deriver`, `registrationTime` (only if non-zero), `ultimate` (only if
//! true), `signatures` (only if any). An invalid path is `{"path": …, "valid": false}`.
//! Newer CppNix prints an object keyed by path (`null` for invalid paths) and may print
//! `narHash` in other encodings; [`parse_json`] reads both shapes.
//!
//! # Example
//! ```
//! use nix_store::hash::Hash;
//! use nix_store::path_info::PathInfo;
//! use nix_store::store_path::StoreDir;
//! let dir = StoreDir::default();
//! let path = dir.parse_path("/nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple")?;
//! let nar_hash = Hash::parse_any("sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw")?;
//! let info = PathInfo::new(path, nar_hash, 120);
//! assert_eq!(
//!     info.fingerprint(&dir)?,
//!     "1;/nix/store/94f9f6i31zwzwbf0kclq1naqxxi4c7v9-simple;sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw;120;"
//! );
//! let json = nix_store::path_info::to_json(&dir, &[info.clone()]);
//! assert_eq!(nix_store::path_info::parse_json(&dir, &json)?, vec![(info.path.clone(), Some(info))]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::content_address::{ContentAddress, ContentAddressError};
use crate::hash::{Hash, HashAlgo, ParseHashError};
use crate::narinfo::fingerprint::{fingerprint, FingerprintError};
use crate::narinfo::keys::{PublicKeys, SecretKey};
use crate::store_path::{StoreDir, StorePath, StorePathError};

/// Information about a valid store path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathInfo {
    /// The path.
    pub path: StorePath,
    /// The derivation that built it, if known.
    pub deriver: Option<StorePath>,
    /// Hash of its NAR serialisation (sha256 in practice).
    pub nar_hash: Hash,
    /// Size of its NAR serialisation in bytes.
    pub nar_size: u64,
    /// The store paths it refers to (possibly itself).
    pub references: BTreeSet<StorePath>,
    /// When it was registered, in Unix seconds (0 = unknown).
    pub registration_time: u64,
    /// Whether it was built locally (so it is trusted without signatures).
    pub ultimate: bool,
    /// Signatures `<key name>:<base64>` (a sorted set, as CppNix keeps them).
    pub signatures: BTreeSet<String>,
    /// Its content address, if it is content-addressed.
    pub ca: Option<ContentAddress>,
}

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PathInfoError {
    /// The fingerprint cannot be computed.
    #[error(transparent)]
    Fingerprint(#[from] FingerprintError),
    /// Invalid JSON text or shape.
    #[error("invalid path-info JSON")]
    Json(#[from] serde_json::Error),
    /// A JSON entry without the field named.
    #[error("path-info JSON entry {index} has no '{field}'")]
    MissingField {
        /// Index of the entry.
        index: usize,
        /// The field name.
        field: &'static str,
    },
    /// A bad store path in the JSON.
    #[error("path-info JSON entry {index}: bad store path")]
    StorePath {
        /// Index of the entry.
        index: usize,
        /// What is wrong.
        #[source]
        source: StorePathError,
    },
    /// A bad hash in the JSON.
    #[error("path-info JSON entry {index}: bad narHash")]
    Hash {
        /// Index of the entry.
        index: usize,
        /// What is wrong.
        #[source]
        source: ParseHashError,
    },
    /// A bad content address in the JSON.
    #[error("path-info JSON entry {index}: bad ca")]
    ContentAddress {
        /// Index of the entry.
        index: usize,
        /// What is wrong.
        #[source]
        source: ContentAddressError,
    },
}

impl PathInfo {
    /// A path info with no references, deriver, signatures or content address.
    pub fn new(path: StorePath, nar_hash: Hash, nar_size: u64) -> PathInfo {
        PathInfo {
            path,
            deriver: None,
            nar_hash,
            nar_size,
            references: BTreeSet::new(),
            registration_time: 0,
            ultimate: false,
            signatures: BTreeSet::new(),
            ca: None,
        }
    }

    /// The bytes a binary-cache signature covers:
    /// `1;<path>;<narHash sha256:nix32>;<narSize>;<full refs joined by ','>`.
    ///
    /// # Errors
    /// A NAR size of 0 (unknown) or a NAR hash that is not sha256.
    pub fn fingerprint(&self, store_dir: &StoreDir) -> Result<String, PathInfoError> {
        Ok(fingerprint(
            store_dir,
            &self.path,
            &self.nar_hash,
            self.nar_size,
            &self.references,
        )?)
    }

    /// Signs the fingerprint with `key` and adds the signature (CppNix's `ValidPathInfo::sign`).
    ///
    /// # Errors
    /// As [`PathInfo::fingerprint`].
    pub fn sign(&mut self, store_dir: &StoreDir, key: &SecretKey) -> Result<(), PathInfoError> {
        let sig = key.sign(self.fingerprint(store_dir)?.as_bytes());
        self.signatures.insert(sig.to_string());
        Ok(())
    }

    /// How many of the signatures are valid signatures by one of `keys` (CppNix's
    /// `checkSignatures`, without the content-address shortcut: see
    /// [`PathInfo::is_content_addressed`]). Unparsable signatures count as invalid.
    ///
    /// # Errors
    /// As [`PathInfo::fingerprint`].
    pub fn count_valid_signatures(
        &self,
        store_dir: &StoreDir,
        keys: &PublicKeys,
    ) -> Result<usize, PathInfoError> {
        let fp = self.fingerprint(store_dir)?;
        Ok(self
            .signatures
            .iter()
            .filter(|s| keys.verify(fp.as_bytes(), s))
            .count())
    }

    /// Whether the path is what its content address implies (so it needs no signature).
    pub fn is_content_addressed(&self, store_dir: &StoreDir) -> bool {
        let Some(ca) = &self.ca else { return false };
        let mut refs = self.references.clone();
        let self_ref = refs.remove(&self.path);
        ca.store_path(store_dir, self.path.name(), &refs, self_ref)
            .is_ok_and(|p| p == self.path)
    }

    fn to_json_entry<'a>(&'a self, store_dir: &StoreDir) -> JsonEntry<'a> {
        JsonEntry {
            path: store_dir.display(&self.path),
            nar_hash: Some(self.nar_hash.to_sri()),
            nar_size: Some(self.nar_size),
            references: Some(
                self.references
                    .iter()
                    .map(|r| store_dir.display(r))
                    .collect(),
            ),
            ca: self.ca.map(|c| c.to_string()),
            deriver: self.deriver.as_ref().map(|d| store_dir.display(d)),
            registration_time: (self.registration_time != 0).then_some(self.registration_time),
            ultimate: self.ultimate.then_some(true),
            signatures: (!self.signatures.is_empty())
                .then(|| self.signatures.iter().map(String::as_str).collect()),
            valid: None,
        }
    }
}

/// One entry of the JSON array, in CppNix's key order.
#[derive(Serialize)]
struct JsonEntry<'a> {
    path: String,
    #[serde(rename = "narHash", skip_serializing_if = "Option::is_none")]
    nar_hash: Option<String>,
    #[serde(rename = "narSize", skip_serializing_if = "Option::is_none")]
    nar_size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    references: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ca: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deriver: Option<String>,
    #[serde(rename = "registrationTime", skip_serializing_if = "Option::is_none")]
    registration_time: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ultimate: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signatures: Option<Vec<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    valid: Option<bool>,
}

/// The JSON `nix path-info --json` (CppNix 2.8) prints for these paths: an array, compact.
pub fn to_json(store_dir: &StoreDir, infos: &[PathInfo]) -> String {
    let entries: Vec<JsonEntry<'_>> = infos.iter().map(|i| i.to_json_entry(store_dir)).collect();
    serde_json::to_string(&entries).expect("serialising strings and numbers cannot fail")
}

/// Like [`to_json`], with `None` entries printed as invalid paths (`"valid": false`).
pub fn to_json_with_invalid(
    store_dir: &StoreDir,
    infos: &[(StorePath, Option<PathInfo>)],
) -> String {
    let entries: Vec<JsonEntry<'_>> = infos
        .iter()
        .map(|(p, i)| match i {
            Some(i) => i.to_json_entry(store_dir),
            None => JsonEntry {
                path: store_dir.display(p),
                nar_hash: None,
                nar_size: None,
                references: None,
                ca: None,
                deriver: None,
                registration_time: None,
                ultimate: None,
                signatures: None,
                valid: Some(false),
            },
        })
        .collect();
    serde_json::to_string(&entries).expect("serialising strings and numbers cannot fail")
}

/// One object as read (either shape).
#[derive(Deserialize)]
struct JsonIn {
    #[serde(default)]
    path: Option<String>,
    #[serde(rename = "narHash", default)]
    nar_hash: Option<String>,
    #[serde(rename = "narSize", default)]
    nar_size: Option<u64>,
    #[serde(default)]
    references: Vec<String>,
    #[serde(default)]
    ca: Option<String>,
    #[serde(default)]
    deriver: Option<String>,
    #[serde(rename = "registrationTime", default)]
    registration_time: Option<u64>,
    #[serde(default)]
    ultimate: Option<bool>,
    #[serde(default)]
    signatures: Vec<String>,
    #[serde(default)]
    valid: Option<bool>,
}

/// Reads `nix path-info --json` output: CppNix 2.8's array, or newer CppNix's object keyed by
/// path. Each entry is the path and its info (`None` for an invalid path).
///
/// # Errors
/// Bad JSON, missing fields, bad paths, hashes or content addresses (with the entry index).
pub fn parse_json(
    store_dir: &StoreDir,
    text: &str,
) -> Result<Vec<(StorePath, Option<PathInfo>)>, PathInfoError> {
    let value: serde_json::Value = serde_json::from_str(text)?;
    let mut out = Vec::new();
    match value {
        serde_json::Value::Object(map) => {
            let map: BTreeMap<String, Option<JsonIn>> =
                serde_json::from_value(serde_json::Value::Object(map))?;
            for (index, (path, entry)) in map.into_iter().enumerate() {
                out.push(entry_from_json(store_dir, index, Some(path), entry)?);
            }
        }
        other => {
            let list: Vec<JsonIn> = serde_json::from_value(other)?;
            for (index, entry) in list.into_iter().enumerate() {
                out.push(entry_from_json(store_dir, index, None, Some(entry))?);
            }
        }
    }
    Ok(out)
}

fn entry_from_json(
    store_dir: &StoreDir,
    index: usize,
    key: Option<String>,
    entry: Option<JsonIn>,
) -> Result<(StorePath, Option<PathInfo>), PathInfoError> {
    let sp = |s: &str| {
        store_dir
            .parse_path(s)
            .map_err(|source| PathInfoError::StorePath { index, source })
    };
    let path_text = key
        .or_else(|| entry.as_ref().and_then(|e| e.path.clone()))
        .ok_or(PathInfoError::MissingField {
            index,
            field: "path",
        })?;
    let path = sp(&path_text)?;
    let Some(e) = entry else {
        return Ok((path, None));
    };
    if e.valid == Some(false) {
        return Ok((path, None));
    }
    let nar_hash = e.nar_hash.ok_or(PathInfoError::MissingField {
        index,
        field: "narHash",
    })?;
    let nar_hash = Hash::parse_with_algo(&nar_hash, HashAlgo::Sha256)
        .or_else(|_| Hash::parse_any(&nar_hash))
        .map_err(|source| PathInfoError::Hash { index, source })?;
    let nar_size = e.nar_size.ok_or(PathInfoError::MissingField {
        index,
        field: "narSize",
    })?;
    let mut info = PathInfo::new(path.clone(), nar_hash, nar_size);
    for r in &e.references {
        info.references.insert(sp(r)?);
    }
    info.deriver = e.deriver.as_deref().map(sp).transpose()?;
    info.ca =
        e.ca.as_deref()
            .map(|c| {
                c.parse()
                    .map_err(|source| PathInfoError::ContentAddress { index, source })
            })
            .transpose()?;
    info.registration_time = e.registration_time.unwrap_or(0);
    info.ultimate = e.ultimate.unwrap_or(false);
    info.signatures = e.signatures.into_iter().collect();
    Ok((path, Some(info)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cppnix_2_8_json_shape() -> Result<(), Box<dyn std::error::Error>> {
        // Printed by `nix path-info --json --store R P` (CppNix 2.8) after `nix-store --add f`.
        let real = r#"[{"path":"/nix/store/xp0dpr9yz5h0fk5c5lpj7zzqjbdh3w8c-f","narHash":"sha256-HDfQGvQL4ugGkd48w99EN3ppmvuxfGjwgJZLL9Bx/BM=","narSize":120,"references":[],"ca":"fixed:r:sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw","registrationTime":1795324945}]"#;
        let dir = StoreDir::default();
        let parsed = parse_json(&dir, real)?;
        let infos: Vec<PathInfo> = parsed.into_iter().filter_map(|(_, i)| i).collect();
        assert_eq!(to_json(&dir, &infos), real);
        assert!(infos[0].is_content_addressed(&dir));
        let invalid = r#"[{"path":"/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x","valid":false}]"#;
        let parsed = parse_json(&dir, invalid)?;
        assert_eq!(parsed[0].1, None);
        assert_eq!(to_json_with_invalid(&dir, &parsed), invalid);
        Ok(())
    }

    #[test]
    fn newer_object_shape() -> Result<(), Box<dyn std::error::Error>> {
        let text = r#"{"/nix/store/xp0dpr9yz5h0fk5c5lpj7zzqjbdh3w8c-f":{"narHash":"sha256-HDfQGvQL4ugGkd48w99EN3ppmvuxfGjwgJZLL9Bx/BM=","narSize":120,"references":[],"ca":"fixed:r:sha256:04zwf782yjwnh3q6hz5izfd6jyip8kgw6g6yj43fiqhbyhdd0dqw","deriver":null,"registrationTime":1795324945,"ultimate":false,"signatures":[]},"/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x":null}"#;
        let parsed = parse_json(&StoreDir::default(), text)?;
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].1, None);
        assert_eq!(parsed[1].1.as_ref().map(|i| i.nar_size), Some(120));
        Ok(())
    }
}
