//! `zkmargin keys`: the proving-key cache's entries, and pruning the unused ones.

use std::path::Path;
use std::time::SystemTime;

use zkmargin_keys::cache::{entries, prune, CacheEntry};

use anyhow::Context;

use crate::args::KeysArgs;
use crate::failure::{ok, Failure, Outcome};

fn entries_word(n: usize) -> String {
    format!("{n} entr{}", if n == 1 { "y" } else { "ies" })
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn age(entry: &CacheEntry, now: SystemTime) -> String {
    let secs = now
        .duration_since(entry.last_used)
        .map_or(0, |d| d.as_secs());
    humantime::format_duration(std::time::Duration::from_secs(secs)).to_string()
}

/// One entry's line: `prefix name  size  last used … ago`.
fn print_entry(prefix: &str, e: &CacheEntry, now: SystemTime) {
    println!(
        "{prefix}{}  {}  last used {} ago",
        e.name,
        mib(e.bytes),
        age(e, now)
    );
}

/// Prunes (if asked), then lists what is left.
fn prune_and_list(args: &KeysArgs, dir: &Path, now: SystemTime) -> std::io::Result<()> {
    if let Some(unused_for) = args.prune_unused_for {
        let removed = prune(dir, unused_for, now)?;
        removed.iter().for_each(|e| print_entry("removed ", e, now));
        println!(
            "removed {} ({}) unused for {}",
            entries_word(removed.len()),
            mib(removed.iter().map(|e| e.bytes).sum()),
            humantime::format_duration(unused_for)
        );
    }
    let list = entries(dir)?;
    list.iter().for_each(|e| print_entry("", e, now));
    println!(
        "{}, {} in {}",
        entries_word(list.len()),
        mib(list.iter().map(|e| e.bytes).sum()),
        dir.display()
    );
    Ok(())
}

pub fn run(args: &KeysArgs) -> Outcome {
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(zkmargin_keys::proving::default_dir);
    prune_and_list(args, &dir, SystemTime::now())
        .with_context(|| dir.display().to_string())
        .map_err(Failure::runtime)?;
    ok()
}
