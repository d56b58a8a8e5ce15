//! Reading and writing the narinfo text.

use std::collections::BTreeSet;

use super::{NarInfo, NarInfoError, ParseOptions, UnknownFields};
use crate::hash::Hash;
use crate::path_info::PathInfo;
use crate::store_path::{StoreDir, StorePath};

/// Fields seen so far (for the duplicate and missing checks).
#[derive(Default)]
struct Seen {
    store_path: Option<StorePath>,
    url: Option<String>,
    compression: Option<String>,
    file_hash: Option<Hash>,
    file_size: Option<u64>,
    nar_hash: Option<Hash>,
    nar_size: Option<u64>,
    references: Option<BTreeSet<StorePath>>,
    deriver: Option<Option<StorePath>>,
    system: Option<String>,
    ca: Option<crate::content_address::ContentAddress>,
    sigs: BTreeSet<String>,
    extra: Vec<(String, String)>,
}

fn set<T>(slot: &mut Option<T>, value: T, line: usize, field: &str) -> Result<(), NarInfoError> {
    if slot.is_some() {
        return Err(NarInfoError::DuplicateField {
            line,
            field: field.to_string(),
        });
    }
    *slot = Some(value);
    Ok(())
}

pub(super) fn parse(
    text: &str,
    store_dir: &StoreDir,
    options: &ParseOptions,
) -> Result<NarInfo, NarInfoError> {
    let mut seen = Seen::default();
    let mut rest = text;
    let mut line = 0;
    while !rest.is_empty() {
        line += 1;
        let Some(eol) = rest.find('\n') else {
            return Err(NarInfoError::MissingNewline { line });
        };
        let l = &rest[..eol];
        rest = &rest[eol + 1..];
        let Some((name, value)) = l.split_once(": ") else {
            return Err(NarInfoError::MissingSeparator {
                line,
                text: l.to_string(),
            });
        };
        let path = |v: &str| {
            store_dir
                .parse_path(v)
                .map_err(|source| NarInfoError::StorePath { line, source })
        };
        let base = |v: &str| {
            StorePath::from_base_name(v).map_err(|source| NarInfoError::StorePath { line, source })
        };
        let hash = |v: &str| {
            Hash::parse_any(v).map_err(|source| NarInfoError::Hash {
                line,
                field: name.to_string(),
                source,
            })
        };
        let int = |v: &str| {
            if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
                return Err(NarInfoError::Integer {
                    line,
                    field: name.to_string(),
                    value: v.to_string(),
                });
            }
            v.parse::<u64>().map_err(|_| NarInfoError::Integer {
                line,
                field: name.to_string(),
                value: v.to_string(),
            })
        };
        match name {
            "StorePath" => set(&mut seen.store_path, path(value)?, line, name)?,
            "URL" => set(&mut seen.url, value.to_string(), line, name)?,
            "Compression" => set(&mut seen.compression, value.to_string(), line, name)?,
            "FileHash" => set(&mut seen.file_hash, hash(value)?, line, name)?,
            "FileSize" => set(&mut seen.file_size, int(value)?, line, name)?,
            "NarHash" => set(&mut seen.nar_hash, hash(value)?, line, name)?,
            "NarSize" => set(&mut seen.nar_size, int(value)?, line, name)?,
            "References" => {
                let refs = value
                    .split(' ')
                    .filter(|r| !r.is_empty())
                    .map(base)
                    .collect::<Result<_, _>>()?;
                set(&mut seen.references, refs, line, name)?
            }
            "Deriver" => {
                let d = if value == "unknown-deriver" {
                    None
                } else {
                    Some(base(value)?)
                };
                set(&mut seen.deriver, d, line, name)?
            }
            "System" => set(&mut seen.system, value.to_string(), line, name)?,
            "Sig" => {
                seen.sigs.insert(value.to_string());
            }
            "CA" => {
                let ca = value
                    .parse()
                    .map_err(|source| NarInfoError::ContentAddress { line, source })?;
                set(&mut seen.ca, ca, line, name)?
            }
            _ => match options.unknown_fields {
                UnknownFields::Preserve => seen.extra.push((name.to_string(), value.to_string())),
                UnknownFields::Ignore => {}
                UnknownFields::Reject => {
                    return Err(NarInfoError::UnknownField {
                        line,
                        field: name.to_string(),
                    });
                }
            },
        }
    }
    let store_path = seen
        .store_path
        .ok_or(NarInfoError::MissingField { field: "StorePath" })?;
    let nar_hash = seen
        .nar_hash
        .ok_or(NarInfoError::MissingField { field: "NarHash" })?;
    let url = seen
        .url
        .ok_or(NarInfoError::MissingField { field: "URL" })?;
    if url.is_empty() {
        return Err(NarInfoError::MissingField { field: "URL" });
    }
    let nar_size = seen
        .nar_size
        .ok_or(NarInfoError::MissingField { field: "NarSize" })?;
    if nar_size == 0 {
        return Err(NarInfoError::ZeroNarSize);
    }
    let mut info = PathInfo::new(store_path, nar_hash, nar_size);
    info.references = seen.references.unwrap_or_default();
    info.deriver = seen.deriver.flatten();
    info.signatures = seen.sigs;
    info.ca = seen.ca;
    Ok(NarInfo {
        info,
        url,
        compression: seen.compression,
        file_hash: seen.file_hash,
        file_size: seen.file_size,
        system: seen.system,
        extra: seen.extra,
    })
}

pub(super) fn write(n: &NarInfo, store_dir: &StoreDir) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let i = &n.info;
    // Writing to a String cannot fail.
    let _ = writeln!(s, "StorePath: {}", store_dir.display(&i.path));
    let _ = writeln!(s, "URL: {}", n.url);
    if let Some(c) = &n.compression {
        let _ = writeln!(s, "Compression: {c}");
    }
    if let Some(h) = &n.file_hash {
        let _ = writeln!(s, "FileHash: {}", h.to_typed_nix32());
    }
    if let Some(size) = n.file_size {
        let _ = writeln!(s, "FileSize: {size}");
    }
    let _ = writeln!(s, "NarHash: {}", i.nar_hash.to_typed_nix32());
    let _ = writeln!(s, "NarSize: {}", i.nar_size);
    let refs: Vec<&str> = i.references.iter().map(|r| r.as_str()).collect();
    let _ = writeln!(s, "References: {}", refs.join(" "));
    if let Some(d) = &i.deriver {
        let _ = writeln!(s, "Deriver: {d}");
    }
    if let Some(sys) = &n.system {
        let _ = writeln!(s, "System: {sys}");
    }
    for sig in &i.signatures {
        let _ = writeln!(s, "Sig: {sig}");
    }
    if let Some(ca) = &i.ca {
        let _ = writeln!(s, "CA: {ca}");
    }
    for (k, v) in &n.extra {
        let _ = writeln!(s, "{k}: {v}");
    }
    s
}
