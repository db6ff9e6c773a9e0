//! Load generator for `zkmargin serve`'s inclusion endpoint: `--connections` keep-alive
//! clients POST `{"token": ...}` in a loop for `--seconds`, cycling through the tokens of
//! `--tokens` (one per line), and print requests/s, latency percentiles and status counts.
//!   cargo run --release -p zkmargin-serve --example load -- --url http://127.0.0.1:8080 \
//!     --tokens tokens.txt --seconds 30 --connections 32
//! `scripts/load-test.sh` starts a server, runs this and samples the server's memory.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::Request;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

#[derive(Parser)]
struct Args {
    /// Server base URL.
    #[arg(long)]
    url: String,
    /// File of access tokens, one per line.
    #[arg(long)]
    tokens: std::path::PathBuf,
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    #[arg(long, default_value_t = 32)]
    connections: usize,
}

/// Per-worker tallies: latencies in microseconds and responses by status.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    statuses: BTreeMap<u16, u64>,
    errors: u64,
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let tokens: Arc<Vec<String>> = Arc::new(
        std::fs::read_to_string(&args.tokens)
            .expect("tokens file")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect(),
    );
    assert!(!tokens.is_empty(), "no tokens in {}", args.tokens.display());
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(args.connections)
        .build_http();
    let url: hyper::Uri = format!("{}/api/inclusion", args.url).parse().expect("URL");
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..args.connections)
        .map(|w| {
            let (client, url, tokens) = (client.clone(), url.clone(), tokens.clone());
            tokio::spawn(async move {
                let mut tally = Tally::default();
                // Workers start spread over the tokens.
                let mut i = w * tokens.len() / args.connections;
                while Instant::now() < deadline {
                    let body = format!(r#"{{"token":"{}"}}"#, tokens[i % tokens.len()]);
                    i += 1;
                    let req = Request::post(url.clone())
                        .header("content-type", "application/json")
                        .body(Full::new(Bytes::from(body)))
                        .expect("request");
                    let sent = Instant::now();
                    match client.request(req).await {
                        Ok(resp) => {
                            let status = resp.status().as_u16();
                            let ok = resp.into_body().collect().await.is_ok();
                            tally.latencies_us.push(sent.elapsed().as_micros() as u32);
                            *tally.statuses.entry(status).or_default() += 1;
                            tally.errors += u64::from(!ok);
                        }
                        Err(_) => tally.errors += 1,
                    }
                }
                tally
            })
        })
        .collect();
    let mut all = Tally::default();
    for w in workers {
        let t = w.await.expect("worker");
        all.latencies_us.extend(t.latencies_us);
        for (s, n) in t.statuses {
            *all.statuses.entry(s).or_default() += n;
        }
        all.errors += t.errors;
    }
    let secs = started.elapsed().as_secs_f64();
    all.latencies_us.sort_unstable();
    let n = all.latencies_us.len();
    println!(
        "requests {n}  seconds {secs:.1}  req/s {:.0}  p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms  \
         statuses {:?}  errors {}",
        n as f64 / secs,
        percentile(&all.latencies_us, 0.50),
        percentile(&all.latencies_us, 0.99),
        percentile(&all.latencies_us, 1.0),
        all.statuses,
        all.errors
    );
}
