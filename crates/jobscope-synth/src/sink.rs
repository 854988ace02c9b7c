//! Where rows go: a SQLite file (multi-row `INSERT`s with bound values, in one transaction)
//! or a PostgreSQL database (`COPY … FROM STDIN` in text format, in one transaction).
//!
//! Values are written the way the store writes them: SQLite gets timestamps as sqlx encodes a
//! `DateTime<Utc>` (RFC 3339), booleans as 0/1, lists as JSON text and traversal ids as
//! `/1/5/9/`; PostgreSQL gets `timestamptz`, `boolean`, `text[]` and `bigint[]`.

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, QueryBuilder, Sqlite};

/// One column value.
pub enum Val {
    Null,
    Int(i64),
    Bool(bool),
    Text(String),
    Static(&'static str),
    /// Seconds since the epoch (UTC).
    Time(i64),
    /// A list of names (`text[]`, or JSON on SQLite).
    Names(&'static [&'static str]),
    /// Traversal ids (`bigint[]`, or `/1/5/9/` on SQLite).
    Ids(Vec<i64>),
}

pub struct Table {
    pub name: &'static str,
    pub columns: &'static [&'static str],
}

pub fn time(secs: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp(secs, 0).with_context(|| format!("timestamp {secs} out of range"))
}

fn traversal_text(ids: &[i64]) -> String {
    let mut s = String::from("/");
    for id in ids {
        s.push_str(&id.to_string());
        s.push('/');
    }
    s
}

fn names_json(names: &[&str]) -> String {
    serde_json::Value::from(names.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()).to_string()
}

pub enum Sink {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl Sink {
    /// A connection for bulk loading into a SQLite file that the store has just created:
    /// no foreign key checks (the rows are consistent by construction; the tests check
    /// them), an in-memory rollback journal instead of WAL (a new file has almost nothing
    /// to roll back, and WAL would write every page twice), no fsync until the end, and a
    /// large page cache.
    pub async fn sqlite(url: &str) -> Result<Sink> {
        let file = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        let file = file.split_once('?').map_or(file, |(f, _)| f);
        let conn = SqliteConnectOptions::new()
            .filename(file)
            .foreign_keys(false)
            .journal_mode(SqliteJournalMode::Memory)
            .synchronous(SqliteSynchronous::Off)
            .pragma("cache_size", "-524288")
            .pragma("temp_store", "memory")
            .connect()
            .await
            .with_context(|| format!("opening {file} for loading"))?;
        Ok(Sink::Sqlite(conn))
    }

    /// A connection for loading into PostgreSQL. As a superuser it sets
    /// `session_replication_role = replica`, which skips foreign key checks and the change
    /// announcement triggers while loading (as `pg_restore` does); otherwise they run.
    pub async fn postgres(url: &str) -> Result<Sink> {
        let options: PgConnectOptions = url.parse().context("parsing the PostgreSQL URL")?;
        let mut conn = options
            .connect()
            .await
            .context("connecting to PostgreSQL")?;
        sqlx::raw_sql("SET synchronous_commit = off")
            .execute(&mut conn)
            .await?;
        if sqlx::raw_sql("SET session_replication_role = replica")
            .execute(&mut conn)
            .await
            .is_err()
        {
            eprintln!("jobscope-synth: not a superuser: loading with foreign key checks (slower)");
        }
        Ok(Sink::Postgres(conn))
    }

    pub async fn begin(&mut self) -> Result<()> {
        self.exec("BEGIN").await
    }

    pub async fn commit(&mut self) -> Result<()> {
        self.exec("COMMIT").await
    }

    pub async fn exec(&mut self, sql: &'static str) -> Result<()> {
        match self {
            Sink::Sqlite(c) => {
                sqlx::raw_sql(sql).execute(c).await?;
            }
            Sink::Postgres(c) => {
                sqlx::raw_sql(sql).execute(c).await?;
            }
        }
        Ok(())
    }

    pub async fn write(&mut self, table: &Table, rows: &[Vec<Val>]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        match self {
            Sink::Sqlite(c) => write_sqlite(c, table, rows).await,
            Sink::Postgres(c) => write_postgres(c, table, rows).await,
        }
        .with_context(|| format!("writing {} rows into {}", rows.len(), table.name))
    }

    /// Makes the instance what the store expects at rest: on SQLite back to WAL; on
    /// PostgreSQL the id sequences past the written ids (as `jobscope import` does) and
    /// fresh statistics and visibility maps (what autovacuum would soon do).
    pub async fn finish(self) -> Result<()> {
        match self {
            Sink::Sqlite(mut c) => {
                sqlx::raw_sql("PRAGMA journal_mode = WAL")
                    .execute(&mut c)
                    .await?;
                c.close().await?;
            }
            Sink::Postgres(mut c) => {
                for table in [
                    "users",
                    "namespaces",
                    "projects",
                    "personal_access_tokens",
                    "ci_job_token_project_scope_links",
                    "ci_job_token_group_scope_links",
                    "ci_jobs",
                    "audit_events",
                ] {
                    let sql = format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                         GREATEST((SELECT COALESCE(MAX(id), 0) FROM {table}), 1), \
                         (SELECT COUNT(*) > 0 FROM {table}))"
                    );
                    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                        .execute(&mut c)
                        .await
                        .with_context(|| format!("setting the id sequence of {table}"))?;
                }
                sqlx::raw_sql("VACUUM (ANALYZE)")
                    .execute(&mut c)
                    .await
                    .context("VACUUM (ANALYZE)")?;
                c.close().await?;
            }
        }
        Ok(())
    }
}

/// SQLite allows 32,766 bound values per statement; 500 rows per statement is past the
/// point where larger statements stop helping.
async fn write_sqlite(c: &mut SqliteConnection, table: &Table, rows: &[Vec<Val>]) -> Result<()> {
    let per_statement = (32_000 / table.columns.len()).min(500);
    let head = format!("INSERT INTO {} ({}) ", table.name, table.columns.join(", "));
    for chunk in rows.chunks(per_statement) {
        let mut qb = QueryBuilder::<Sqlite>::new(head.clone());
        let mut failure = None;
        qb.push_values(chunk, |mut b, row| {
            for v in row {
                match v {
                    Val::Null => b.push_bind(None::<i64>),
                    Val::Int(i) => b.push_bind(*i),
                    Val::Bool(x) => b.push_bind(*x),
                    Val::Text(s) => b.push_bind(s.as_str()),
                    Val::Static(s) => b.push_bind(*s),
                    Val::Time(t) => match time(*t) {
                        Ok(t) => b.push_bind(t),
                        Err(e) => {
                            failure = Some(e);
                            b.push_bind(None::<i64>)
                        }
                    },
                    Val::Names(n) => b.push_bind(names_json(n)),
                    Val::Ids(ids) => b.push_bind(traversal_text(ids)),
                };
            }
        });
        if let Some(e) = failure {
            return Err(e);
        }
        qb.build().execute(&mut *c).await?;
    }
    Ok(())
}

/// Appends `s` escaped for COPY's text format.
fn copy_text(buf: &mut String, s: &str) {
    for ch in s.chars() {
        match ch {
            '\\' => buf.push_str("\\\\"),
            '\t' => buf.push_str("\\t"),
            '\n' => buf.push_str("\\n"),
            '\r' => buf.push_str("\\r"),
            c => buf.push(c),
        }
    }
}

async fn write_postgres(c: &mut PgConnection, table: &Table, rows: &[Vec<Val>]) -> Result<()> {
    use std::fmt::Write;
    let mut buf = String::with_capacity(rows.len() * 128);
    for row in rows {
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                buf.push('\t');
            }
            match v {
                Val::Null => buf.push_str("\\N"),
                Val::Int(n) => {
                    let _ = write!(buf, "{n}");
                }
                Val::Bool(b) => buf.push(if *b { 't' } else { 'f' }),
                Val::Text(s) => copy_text(&mut buf, s),
                Val::Static(s) => copy_text(&mut buf, s),
                Val::Time(t) => {
                    let _ = write!(buf, "{}", time(*t)?.format("%Y-%m-%d %H:%M:%S+00"));
                }
                Val::Names(names) => {
                    buf.push('{');
                    for (k, n) in names.iter().enumerate() {
                        if k > 0 {
                            buf.push(',');
                        }
                        // Policy names and topics are plain words: no quoting needed.
                        copy_text(&mut buf, n);
                    }
                    buf.push('}');
                }
                Val::Ids(ids) => {
                    buf.push('{');
                    for (k, id) in ids.iter().enumerate() {
                        if k > 0 {
                            buf.push(',');
                        }
                        let _ = write!(buf, "{id}");
                    }
                    buf.push('}');
                }
            }
        }
        buf.push('\n');
    }
    let statement = format!(
        "COPY {} ({}) FROM STDIN",
        table.name,
        table.columns.join(", ")
    );
    let mut copy = c.copy_in_raw(&statement).await?;
    copy.send(buf.into_bytes()).await?;
    copy.finish().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        assert_eq!(traversal_text(&[1, 5, 9]), "/1/5/9/");
        assert_eq!(names_json(&["a", "b"]), r#"["a","b"]"#);
        assert_eq!(names_json(&[]), "[]");
        let mut s = String::new();
        copy_text(&mut s, "a\tb\\c\nd");
        assert_eq!(s, "a\\tb\\\\c\\nd");
    }
}
