//! The manifest (JSON: what was generated, and how long it took) and the request files for a
//! load generator, written next to it.

use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::{Value, json};

use jobscope_store::token_digest;

use crate::emit::{job_token, project_full_path};
use crate::model::{Instance, Kind};

/// File names, in the manifest's directory.
pub const ALLOWED_PROJECT: &str = "requests-allowed-project.jsonl";
pub const ALLOWED_GROUP: &str = "requests-allowed-group.jsonl";
pub const ALLOWED: &str = "requests-allowed.jsonl";
pub const DENIED: &str = "requests-denied.jsonl";
pub const PAIRS: &str = "decision-pairs.tsv";

/// Samples of each kind recorded in the manifest.
const SAMPLES_PER_KIND: usize = 5;

fn request_line(token: &str, target: u32) -> String {
    json!({
        "path": format!("/api/v4/job_token/allowed?project={target}"),
        "headers": {"JOB-TOKEN": token},
    })
    .to_string()
}

struct Out {
    w: BufWriter<std::fs::File>,
    count: u64,
}

impl Out {
    fn create(dir: &Path, name: &str) -> Result<Out> {
        let path = dir.join(name);
        let f =
            std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Out {
            w: BufWriter::new(f),
            count: 0,
        })
    }

    fn line(&mut self, s: &str) -> Result<()> {
        self.w.write_all(s.as_bytes())?;
        self.w.write_all(b"\n")?;
        self.count += 1;
        Ok(())
    }
}

/// Writes the request files and returns the manifest's `requests` list and `samples`.
pub fn write_requests(inst: &Instance, dir: &Path, salt: &str) -> Result<(Value, Value)> {
    let mut project = Out::create(dir, ALLOWED_PROJECT)?;
    let mut group = Out::create(dir, ALLOWED_GROUP)?;
    let mut allowed = Out::create(dir, ALLOWED)?;
    let mut denied = Out::create(dir, DENIED)?;
    let mut pairs = Out::create(dir, PAIRS)?;
    pairs.line(
        "kind\tjob_id\ttoken_digest\torigin_project_id\ttarget_project_id\texpected_status",
    )?;
    let mut entries_of: HashMap<u32, (u32, u32)> = HashMap::new();
    for l in &inst.project_links {
        entries_of.entry(l.source).or_default().0 += 1;
    }
    for l in &inst.group_links {
        entries_of.entry(l.source).or_default().1 += 1;
    }
    let mut samples = Vec::new();
    let mut sampled: HashMap<&'static str, usize> = HashMap::new();
    for (i, j) in inst.jobs.iter().enumerate() {
        let id = i as u32 + 1;
        let token = job_token(inst.seed, id);
        let line = request_line(&token, j.target);
        match j.kind {
            Kind::AllowedProject => {
                project.line(&line)?;
                allowed.line(&line)?;
            }
            Kind::AllowedGroup => {
                group.line(&line)?;
                allowed.line(&line)?;
            }
            Kind::Denied => denied.line(&line)?,
        }
        pairs.line(&format!(
            "{}\t{id}\t{}\t{}\t{}\t{}",
            j.kind.name(),
            token_digest(&token, salt),
            j.project,
            j.target,
            j.kind.expected_status()
        ))?;
        let n = sampled.entry(j.kind.name()).or_default();
        if *n < SAMPLES_PER_KIND {
            *n += 1;
            let (np, ng) = entries_of.get(&j.target).copied().unwrap_or_default();
            let via = j.via_group.map(|g| &inst.groups[g as usize]);
            samples.push(json!({
                "kind": j.kind.name(),
                "expected_status": j.kind.expected_status(),
                "job_id": id,
                "token": token,
                "user_id": j.user,
                "origin_project_id": j.project,
                "origin_full_path": project_full_path(inst, j.project),
                "origin_depth": inst.depth_of(j.project),
                "target_project_id": j.target,
                "target_full_path": project_full_path(inst, j.target),
                "target_project_entries": np,
                "target_group_entries": ng,
                "via_group_id": via.map(|g| g.id),
                "via_group_full_path": via.map(|g| g.full_path.clone()),
                "via_group_depth": via.map(|g| g.depth),
            }));
        }
    }
    let mut list = Vec::new();
    for (kind, file, out, status) in [
        ("allowed-project", ALLOWED_PROJECT, project, 200),
        ("allowed-group", ALLOWED_GROUP, group, 200),
        ("allowed", ALLOWED, allowed, 200),
        ("denied", DENIED, denied, 403),
    ] {
        list.push(json!({
            "kind": kind,
            "file": file,
            "expected_status": status,
            "count": out.count,
        }));
        let mut w = out.w;
        w.flush()?;
    }
    pairs.w.flush()?;
    Ok((Value::Array(list), Value::Array(samples)))
}
