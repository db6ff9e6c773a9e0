//! `zkmargin serve`: the archive's HTTP API (`zkmargin_serve`), with JSON logs.

use std::num::NonZeroU32;

use zkmargin_serve::{RateLimit, ServeConfig};

use crate::cli::ServeArgs;
use crate::exit;

/// Threads (and index connections) for blocking work.
const BLOCKING_THREADS: usize = 8;

pub fn serve(args: &ServeArgs) -> u8 {
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
            eprintln!(
                "error: {} has no index.html: build the page with scripts/build-web.sh",
                web.display()
            );
            return exit::INPUT;
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
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(BLOCKING_THREADS)
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::FAILURE;
        }
    };
    let served = runtime.block_on(zkmargin_serve::serve(config, args.addr, |addr| {
        tracing::info!(%addr, "listening");
        // The one line scripts wait for (the port is chosen by the OS when --addr ends in :0).
        eprintln!("listening on http://{addr}");
    }));
    match served {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!("error: {e}");
            exit::FAILURE
        }
    }
}
