//! The SQLite database of a local store, byte-compatible with CppNix 2.8 (schema version 10,
//! facts §6).
//!
//! Tables `ValidPaths`, `Refs` and `DerivationOutputs`, the `DeleteSelfRefs` trigger and the
//! indexes are created with the same statement text CppNix uses, so `sqlite3 db.sqlite .schema`
//! prints the same. The connection uses CppNix's settings: a busy timeout of one hour,
//! `foreign_keys = 1`, `synchronous = normal`, WAL journal mode and
//! `wal_autocheckpoint = 40000`.
//!
//! This layer speaks plain strings (full store paths, `sha256:<base16>` hashes); the store
//! above it converts to and from typed values.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, Transaction};

/// The schema version this module writes into `db/schema`.
pub const SCHEMA_VERSION: u32 = 10;

/// CppNix 2.8's `schema.sql` (the statements SQLite keeps in `sqlite_master`).
pub const SCHEMA: &str = r#"
create table if not exists ValidPaths (
    id               integer primary key autoincrement not null,
    path             text unique not null,
    hash             text not null,
    registrationTime integer not null,
    deriver          text,
    narSize          integer,
    ultimate         integer, -- null implies "false"
    sigs             text, -- space-separated
    ca               text -- if not null, an assertion that the path is content-addressed; see ValidPathInfo
);

create table if not exists Refs (
    referrer  integer not null,
    reference integer not null,
    primary key (referrer, reference),
    foreign key (referrer) references ValidPaths(id) on delete cascade,
    foreign key (reference) references ValidPaths(id) on delete restrict
);

create index if not exists IndexReferrer on Refs(referrer);
create index if not exists IndexReference on Refs(reference);

-- Paths can refer to themselves, causing a tuple (N, N) in the Refs
-- table.  This causes a deletion of the corresponding row in
-- ValidPaths to cause a foreign key constraint violation (due to `on
-- delete restrict' on the `reference' column).  Therefore, explicitly
-- get rid of self-references.
create trigger if not exists DeleteSelfRefs before delete on ValidPaths
  begin
    delete from Refs where referrer = old.id and reference = old.id;
  end;

create table if not exists DerivationOutputs (
    drv  integer not null,
    id   text not null, -- symbolic output id, usually "out"
    path text not null,
    primary key (drv, id),
    foreign key (drv) references ValidPaths(id) on delete cascade
);

create index if not exists IndexDerivationOutputs on DerivationOutputs(path);
"#;

/// Errors of the database layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// An SQLite call failed.
    #[error("sqlite error in {what} ('{}')", db.display())]
    Sqlite {
        /// What we were doing.
        what: &'static str,
        /// The database file.
        db: PathBuf,
        /// The SQLite error.
        #[source]
        source: rusqlite::Error,
    },
    /// The `schema` file names a version we do not speak.
    #[error("current Nix store schema is version {found}, but I only support {SCHEMA_VERSION}")]
    UnsupportedSchema {
        /// The version found.
        found: String,
    },
    /// A reference names a path that is neither valid nor registered in the same batch.
    #[error("cannot add reference from '{referrer}' to invalid path '{reference}'")]
    InvalidReference {
        /// The referring path.
        referrer: String,
        /// The missing path.
        reference: String,
    },
    /// Deleting a path that valid paths still reference.
    #[error("cannot delete path '{path}' since it is still alive")]
    StillReferenced {
        /// The path.
        path: String,
    },
    /// Reading or writing the schema file failed.
    #[error("cannot access '{}'", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
}

/// One `ValidPaths` row plus its references (as full paths).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRow {
    /// Full store path.
    pub path: String,
    /// `sha256:<base16>` of the NAR.
    pub hash: String,
    /// Unix seconds.
    pub registration_time: i64,
    /// Full path of the deriver.
    pub deriver: Option<String>,
    /// NAR size in bytes.
    pub nar_size: Option<i64>,
    /// Built locally.
    pub ultimate: bool,
    /// Space-separated signatures (`None` when empty).
    pub sigs: Option<String>,
    /// Content-address assertion.
    pub ca: Option<String>,
    /// Referenced paths (full), sorted.
    pub references: Vec<String>,
}

/// The open database of one local store.
#[derive(Debug)]
pub struct Db {
    conn: Connection,
    file: PathBuf,
}

impl Db {
    /// Opens (creating when missing) the database `db_dir/db.sqlite` and `db_dir/schema`.
    ///
    /// # Errors
    /// [`DbError`] if SQLite fails or the schema version is not 10.
    pub fn open(db_dir: &Path) -> Result<Db, DbError> {
        let schema_file = db_dir.join("schema");
        let found = match std::fs::read_to_string(&schema_file) {
            Ok(s) => Some(s.trim().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(DbError::Io {
                    path: schema_file,
                    source,
                })
            }
        };
        if let Some(v) = &found {
            if v != &SCHEMA_VERSION.to_string() {
                return Err(DbError::UnsupportedSchema { found: v.clone() });
            }
        }
        let file = db_dir.join("db.sqlite");
        let sq = |what| {
            let db = file.clone();
            move |source| DbError::Sqlite { what, db, source }
        };
        let conn = Connection::open(&file).map_err(sq("opening the database"))?;
        conn.busy_timeout(Duration::from_secs(60 * 60))
            .map_err(sq("setting the busy timeout"))?;
        // a page cache of at most 256 KiB (SQLite's default is 2,000 KiB): the queries of the
        // store touch few pages each, and the cache was a sizable part of the resident memory
        // of a `nix-instantiate`
        conn.execute_batch(
            "pragma foreign_keys = 1; pragma synchronous = normal; pragma cache_size = -256;",
        )
        .map_err(sq("setting pragmas"))?;
        let mode: String = conn
            .query_row("pragma main.journal_mode", [], |r| r.get(0))
            .map_err(sq("reading the journal mode"))?;
        if mode != "wal" {
            let _: String = conn
                .query_row("pragma main.journal_mode = wal", [], |r| r.get(0))
                .map_err(sq("setting the journal mode"))?;
        }
        conn.execute_batch("pragma wal_autocheckpoint = 40000;")
            .map_err(sq("setting the autocheckpoint interval"))?;
        if found.is_none() {
            conn.execute_batch(SCHEMA)
                .map_err(sq("creating the schema"))?;
            write_atomically(&schema_file, SCHEMA_VERSION.to_string().as_bytes())?;
        }
        Ok(Db { conn, file })
    }

    fn sq(&self, what: &'static str) -> impl FnOnce(rusqlite::Error) -> DbError + '_ {
        move |source| DbError::Sqlite {
            what,
            db: self.file.clone(),
            source,
        }
    }

    /// Whether `path` has a `ValidPaths` row.
    ///
    /// # Errors
    /// [`DbError::Sqlite`].
    pub fn is_valid(&self, path: &str) -> Result<bool, DbError> {
        self.id_of(path).map(|id| id.is_some())
    }

    fn id_of(&self, path: &str) -> Result<Option<i64>, DbError> {
        self.conn
            .prepare_cached("select id from ValidPaths where path = ?1")
            .and_then(|mut st| st.query_row([path], |r| r.get(0)).optional())
            .map_err(self.sq("querying path"))
    }

    /// The row of `path` with its references, or `None` if it is not valid.
    ///
    /// # Errors
    /// [`DbError::Sqlite`].
    pub fn query_path(&self, path: &str) -> Result<Option<PathRow>, DbError> {
        let row = self
            .conn
            .prepare_cached(
                "select id, hash, registrationTime, deriver, narSize, ultimate, sigs, ca \
                 from ValidPaths where path = ?1",
            )
            .and_then(|mut st| {
                st.query_row([path], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        PathRow {
                            path: path.to_string(),
                            hash: r.get(1)?,
                            registration_time: r.get(2)?,
                            deriver: r.get(3)?,
                            nar_size: r.get(4)?,
                            ultimate: r.get::<_, Option<i64>>(5)?.unwrap_or(0) != 0,
                            sigs: r.get(6)?,
                            ca: r.get(7)?,
                            references: Vec::new(),
                        },
                    ))
                })
                .optional()
            })
            .map_err(self.sq("querying path info"))?;
        let Some((id, mut row)) = row else {
            return Ok(None);
        };
        row.references = self.references_of_id(id)?;
        Ok(Some(row))
    }

    fn references_of_id(&self, id: i64) -> Result<Vec<String>, DbError> {
        let mut refs: Vec<String> = self
            .conn
            .prepare_cached(
                "select path from Refs join ValidPaths on reference = id where referrer = ?1",
            )
            .and_then(|mut st| {
                st.query_map([id], |r| r.get(0))?
                    .collect::<Result<Vec<String>, _>>()
            })
            .map_err(self.sq("querying references"))?;
        refs.sort();
        Ok(refs)
    }

    /// Paths whose references include `path` (sorted).
    ///
    /// # Errors
    /// [`DbError::Sqlite`].
    pub fn referrers(&self, path: &str) -> Result<Vec<String>, DbError> {
        let mut out: Vec<String> = self
            .conn
            .prepare_cached(
                "select path from Refs join ValidPaths on referrer = id where reference = \
                 (select id from ValidPaths where path = ?1)",
            )
            .and_then(|mut st| {
                st.query_map([path], |r| r.get(0))?
                    .collect::<Result<Vec<String>, _>>()
            })
            .map_err(self.sq("querying referrers"))?;
        out.sort();
        Ok(out)
    }

    /// Valid `.drv` paths that list `path` as an output (sorted).
    ///
    /// # Errors
    /// [`DbError::Sqlite`].
    pub fn valid_derivers(&self, path: &str) -> Result<Vec<String>, DbError> {
        let mut out: Vec<String> = self
            .conn
            .prepare_cached(
                "select v.path from DerivationOutputs d join ValidPaths v on d.drv = v.id \
                 where d.path = ?1",
            )
            .and_then(|mut st| {
                st.query_map([path], |r| r.get(0))?
                    .collect::<Result<Vec<String>, _>>()
            })
            .map_err(self.sq("querying valid derivers"))?;
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// The `(output name, path)` rows of a valid derivation, sorted by name.
    ///
    /// # Errors
    /// [`DbError::Sqlite`].
    pub fn derivation_outputs(&self, drv: &str) -> Result<Vec<(String, String)>, DbError> {
        let mut out: Vec<(String, String)> = self
            .conn
            .prepare_cached(
                "select id, path from DerivationOutputs where drv = \
                 (select id from ValidPaths where path = ?1)",
            )
            .and_then(|mut st| {
                st.query_map([drv], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(self.sq("querying derivation outputs"))?;
        out.sort();
        Ok(out)
    }

    /// The valid path whose text starts with `prefix` (`<storeDir>/<hash part>`), if any.
    ///
    /// # Errors
    /// [`DbError::Sqlite`].
    pub fn path_from_prefix(&self, prefix: &str) -> Result<Option<String>, DbError> {
        let found: Option<String> = self
            .conn
            .prepare_cached("select path from ValidPaths where path >= ?1 limit 1")
            .and_then(|mut st| st.query_row([prefix], |r| r.get(0)).optional())
            .map_err(self.sq("querying path from hash part"))?;
        Ok(found.filter(|p| p.starts_with(prefix)))
    }

    /// Every valid path, sorted.
    ///
    /// # Errors
    /// [`DbError::Sqlite`].
    pub fn all_paths(&self) -> Result<Vec<String>, DbError> {
        let mut out: Vec<String> = self
            .conn
            .prepare_cached("select path from ValidPaths")
            .and_then(|mut st| {
                st.query_map([], |r| r.get(0))?
                    .collect::<Result<Vec<String>, _>>()
            })
            .map_err(self.sq("listing valid paths"))?;
        out.sort();
        Ok(out)
    }

    /// Registers paths in ONE transaction: rows (updated when already valid), then references
    /// (each must be valid or in the batch), then derivation outputs.
    ///
    /// # Errors
    /// [`DbError::InvalidReference`] or [`DbError::Sqlite`]; nothing is registered then.
    pub fn register(
        &mut self,
        rows: &[PathRow],
        drv_outputs: &[(String, Vec<(String, String)>)],
    ) -> Result<(), DbError> {
        let file = self.file.clone();
        let sq = |what: &'static str| {
            let db = file.clone();
            move |source| DbError::Sqlite { what, db, source }
        };
        let tx = self
            .conn
            .transaction()
            .map_err(sq("starting a transaction"))?;
        for row in rows {
            upsert_row(&tx, row).map_err(sq("registering a path"))?;
        }
        for row in rows {
            let referrer = tx_id(&tx, &row.path)
                .map_err(sq("registering references"))?
                .expect("the row was inserted above in this transaction");
            tx.execute("delete from Refs where referrer = ?1", [referrer])
                .map_err(sq("registering references"))?;
            for r in &row.references {
                let Some(reference) = tx_id(&tx, r).map_err(sq("registering references"))? else {
                    return Err(DbError::InvalidReference {
                        referrer: row.path.clone(),
                        reference: r.clone(),
                    });
                };
                tx.prepare_cached(
                    "insert or replace into Refs (referrer, reference) values (?1, ?2)",
                )
                .and_then(|mut st| st.execute([referrer, reference]))
                .map_err(sq("registering references"))?;
            }
        }
        for (drv, outputs) in drv_outputs {
            let Some(id) = tx_id(&tx, drv).map_err(sq("registering derivation outputs"))? else {
                continue;
            };
            for (name, path) in outputs {
                tx.prepare_cached(
                    "insert or replace into DerivationOutputs (drv, id, path) values (?1, ?2, ?3)",
                )
                .and_then(|mut st| st.execute(params![id, name, path]))
                .map_err(sq("registering derivation outputs"))?;
            }
        }
        tx.commit().map_err(sq("committing"))
    }

    /// Updates the hash and size of a valid path (used by repair).
    ///
    /// # Errors
    /// [`DbError::Sqlite`].
    pub fn update_hash(&self, path: &str, hash: &str, nar_size: i64) -> Result<(), DbError> {
        self.conn
            .execute(
                "update ValidPaths set hash = ?2, narSize = ?3 where path = ?1",
                params![path, hash, nar_size],
            )
            .map(|_| ())
            .map_err(self.sq("updating path info"))
    }

    /// Removes the rows of `paths` in one transaction. Fails (removing nothing) if a path is
    /// still referenced by a valid path outside `paths`.
    ///
    /// # Errors
    /// [`DbError::StillReferenced`] or [`DbError::Sqlite`].
    pub fn invalidate(&mut self, paths: &[String]) -> Result<(), DbError> {
        let file = self.file.clone();
        let sq = |what: &'static str| {
            let db = file.clone();
            move |source| DbError::Sqlite { what, db, source }
        };
        let tx = self
            .conn
            .transaction()
            .map_err(sq("starting a transaction"))?;
        for p in paths {
            match tx.execute("delete from ValidPaths where path = ?1", [p]) {
                Ok(_) => {}
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    return Err(DbError::StillReferenced { path: p.clone() })
                }
                Err(e) => return Err(sq("invalidating a path")(e)),
            }
        }
        tx.commit().map_err(sq("committing"))
    }

    /// Runs SQLite's `pragma integrity_check` and the foreign key check; returns problems.
    ///
    /// # Errors
    /// [`DbError::Sqlite`].
    pub fn check(&self) -> Result<Vec<String>, DbError> {
        let mut problems: Vec<String> = self
            .conn
            .prepare("pragma integrity_check")
            .and_then(|mut st| {
                st.query_map([], |r| r.get(0))?
                    .collect::<Result<Vec<String>, _>>()
            })
            .map_err(self.sq("checking integrity"))?;
        problems.retain(|p| p != "ok");
        let fk: Vec<String> = self
            .conn
            .prepare("pragma foreign_key_check")
            .and_then(|mut st| {
                st.query_map([], |r| {
                    Ok(format!(
                        "foreign key violation in {}",
                        r.get::<_, String>(0)?
                    ))
                })?
                .collect::<Result<Vec<String>, _>>()
            })
            .map_err(self.sq("checking foreign keys"))?;
        problems.extend(fk);
        Ok(problems)
    }
}

fn tx_id(tx: &Transaction<'_>, path: &str) -> rusqlite::Result<Option<i64>> {
    tx.prepare_cached("select id from ValidPaths where path = ?1")?
        .query_row([path], |r| r.get(0))
        .optional()
}

fn upsert_row(tx: &Transaction<'_>, row: &PathRow) -> rusqlite::Result<()> {
    let ultimate: Option<i64> = row.ultimate.then_some(1);
    if tx_id(tx, &row.path)?.is_some() {
        tx.prepare_cached(
            "update ValidPaths set narSize = ?2, hash = ?3, ultimate = ?4, sigs = ?5, ca = ?6 \
             where path = ?1",
        )?
        .execute(params![
            row.path,
            row.nar_size,
            row.hash,
            ultimate,
            row.sigs,
            row.ca
        ])?;
    } else {
        tx.prepare_cached(
            "insert into ValidPaths (path, hash, registrationTime, deriver, narSize, ultimate, \
             sigs, ca) values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            row.path,
            row.hash,
            row.registration_time,
            row.deriver,
            row.nar_size,
            ultimate,
            row.sigs,
            row.ca
        ])?;
    }
    Ok(())
}

/// Writes `contents` to `path` through a temporary file and a rename.
fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), DbError> {
    let io = |source| DbError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut tmp = path.as_os_str().to_os_string();
    tmp.push(".tmp");
    std::fs::write(&tmp, contents).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}
