//! `zkmargin serve`: the archive's HTTP API (`zkmargin_serve`), with JSON logs.

use std::num::NonZeroU32;

use zkmargin_serve::{RateLimit, ServeConfig};

use anyhow::anyhow;

use crate::args::ServeArgs;
use crate::failure::{ok, Failure, Outcome};

/// Threads (and index connections) for blocking work.
const BLOCKING_THREADS: usize = 8;

pub fn serve(args: &ServeArgs) -> Outcome {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Some(web) = &args.web {
        if !web.join("index.html").is_file() {
            return Err(Failure::input(anyhow!(
                "{} has no index.html: build the page with scripts/build-web.sh",
                web.display()
            )));
        }
    }
    let web = args.web.clone().or_else(|| {
        let dir = args.archive.join("web");
        dir.join("index.html").is_file().then_some(dir)
    });
    let config = ServeConfig {
        archive: args.archive.clone(),
        web,
        rate: RateLimit {
            per_second: NonZeroU32::new(args.rate).expect("clap checks ≥ 1"),
            burst: NonZeroU32::new(args.burst).expect("clap checks ≥ 1"),
        },
    };
    // Index lookups and file reads run on blocking threads, each holding one SQLite
    // connection: a small fixed pool keeps memory flat under load.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(BLOCKING_THREADS)
        .build()
        .map_err(Failure::runtime)?;
    runtime
        .block_on(zkmargin_serve::serve(config, args.addr, |addr| {
            tracing::info!(%addr, "listening");
            // The one line scripts wait for (the port is chosen by the OS when --addr ends in :0).
            eprintln!("listening on http://{addr}");
        }))
        .map_err(Failure::runtime)?;
    ok()
}
