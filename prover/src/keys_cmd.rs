//! `zkmargin keys`: the proving-key cache's entries, and pruning the unused ones.

use std::time::SystemTime;

use zkmargin_bundle::key_cache::{entries, prune, CacheEntry};

use crate::cli::KeysArgs;
use crate::exit;

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

pub fn run(args: &KeysArgs) -> u8 {
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(zkmargin_prover::keystore::default_dir);
    let now = SystemTime::now();
    if let Some(unused_for) = args.prune_unused_for {
        match prune(&dir, unused_for, now) {
            Ok(removed) => {
                for e in &removed {
                    println!(
                        "removed {}  {}  unused for {}",
                        e.name,
                        mib(e.bytes),
                        age(e, now)
                    );
                }
                let freed: u64 = removed.iter().map(|e| e.bytes).sum();
                println!(
                    "removed {} ({}) unused for {}",
                    entries_word(removed.len()),
                    mib(freed),
                    humantime::format_duration(unused_for)
                );
            }
            Err(e) => {
                eprintln!("error: {}: {e}", dir.display());
                return exit::FAILURE;
            }
        }
    }
    match entries(&dir) {
        Ok(list) => {
            for e in &list {
                println!(
                    "{}  {}  last used {} ago",
                    e.name,
                    mib(e.bytes),
                    age(e, now)
                );
            }
            let total: u64 = list.iter().map(|e| e.bytes).sum();
            println!(
                "{}, {} in {}",
                entries_word(list.len()),
                mib(total),
                dir.display()
            );
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {}: {e}", dir.display());
            exit::FAILURE
        }
    }
}
