//! `zkmargin serve`: a JSON API over an epoch archive (`zkmargin_archive`).
//!
//! | route | answer |
//! |---|---|
//! | `GET /health` | `{"status": "ok", "last_epoch": n \| null}` |
//! | `GET /api/epochs?before=N&limit=L` | published epochs, newest first (`limit` ≤ 500) |
//! | `GET /api/epochs/latest`, `GET /api/epochs/{n}` | the epoch's index record and its manifest (statement, digest, shape, shard commitments) |
//! | `GET /public/{n}/...` | the epoch's public bundle files (what `zkmargin-verify bundle` reads) |
//! | `POST /api/inclusion` `{"token": hex, "epoch": n?}` | the holder's inclusion file (latest epoch when `epoch` is absent) |
//! | `GET /`, `GET /app.js`, … | the web verifier page (`scripts/build-web.sh`), when a page directory is given: every other path is a file of it |
//!
//! The inclusion route answers only to an account's access token (`zkmargin token`): the
//! server looks up `SHA-256(token)` and never sees identifiers, so accounts cannot be listed
//! or probed; every unknown, malformed or foreign token gets the same `404` body. Each client
//! address is rate limited on every route (a token bucket, `429` when empty).
#![warn(missing_docs)]

mod limit;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::{Path as UrlPath, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tower_http::services::ServeDir;
use tower_http::trace::TraceLayer;
use zkmargin_archive::{Archive, ArchiveError, Index, TokenHash};
use zkmargin_layout::manifest::MANIFEST;

pub use limit::RateLimit;

/// The body of every inclusion request that does not find an account.
pub const NOT_FOUND: &str = "no inclusion proof for this token";

/// What the server needs to start.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The archive directory.
    pub archive: PathBuf,
    /// Directory of the static web verifier (`index.html` and its files), if any.
    pub web: Option<PathBuf>,
    /// Per-address rate limit.
    pub rate: RateLimit,
}

struct AppState {
    archive: Archive,
}

type Shared = Arc<AppState>;

thread_local! {
    /// One index connection per blocking thread (SQLite connections are not `Sync`).
    static INDEX: std::cell::RefCell<Option<(PathBuf, Index)>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f` on this thread's connection to the index at `path`.
fn with_index<T>(
    path: &Path,
    f: impl FnOnce(&Index) -> Result<T, ArchiveError>,
) -> Result<T, ArchiveError> {
    INDEX.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.as_ref().is_none_or(|(p, _)| p != path) {
            *slot = Some((path.to_path_buf(), Index::open(path)?));
        }
        f(&slot.as_ref().expect("just opened").1)
    })
}

/// An internal error: logged in full, answered with a bare 500.
fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "request failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({ "error": "internal error" })),
    )
        .into_response()
}

fn not_found(what: &str) -> Response {
    (StatusCode::NOT_FOUND, Json(json!({ "error": what }))).into_response()
}

/// Runs a blocking index or file operation off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ArchiveError> + Send + 'static,
) -> Result<T, Response> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(internal(e)),
        Err(e) => Err(internal(e)),
    }
}

async fn health(State(s): State<Shared>) -> Response {
    let path = s.archive.index_path();
    match blocking(move || with_index(&path, |i| i.last())).await {
        Ok(last) => Json(json!({
            "status": "ok",
            "last_epoch": last.map(|r| r.epoch),
        }))
        .into_response(),
        Err(r) => r,
    }
}

#[derive(Deserialize)]
struct ListQuery {
    before: Option<u64>,
    limit: Option<u32>,
}

async fn list_epochs(State(s): State<Shared>, Query(q): Query<ListQuery>) -> Response {
    let path = s.archive.index_path();
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    match blocking(move || with_index(&path, |i| i.list(q.before, limit))).await {
        Ok(epochs) => Json(json!({ "epochs": epochs })).into_response(),
        Err(r) => r,
    }
}

/// The record and manifest of `epoch` (the latest if `None`).
async fn epoch_document(s: Shared, epoch: Option<u64>) -> Response {
    let archive = s.archive.clone();
    let found = blocking(move || {
        let path = archive.index_path();
        let record = with_index(&path, |i| match epoch {
            Some(e) => i.epoch(e),
            None => i.last(),
        })?;
        let Some(record) = record else {
            return Ok(None);
        };
        let manifest_path = archive.public_dir(record.epoch).join(MANIFEST);
        let bytes = std::fs::read(&manifest_path).map_err(|source| ArchiveError::Io {
            path: manifest_path.clone(),
            source,
        })?;
        let manifest: Value =
            serde_json::from_slice(&bytes).map_err(|e| ArchiveError::Malformed {
                path: manifest_path,
                reason: e.to_string(),
            })?;
        Ok(Some((record, manifest)))
    })
    .await;
    match found {
        Ok(Some((record, manifest))) => {
            Json(json!({ "record": record, "manifest": manifest })).into_response()
        }
        Ok(None) => not_found("no such epoch"),
        Err(r) => r,
    }
}

async fn latest_epoch(State(s): State<Shared>) -> Response {
    epoch_document(s, None).await
}

async fn one_epoch(State(s): State<Shared>, UrlPath(epoch): UrlPath<u64>) -> Response {
    epoch_document(s, Some(epoch)).await
}

#[derive(Deserialize)]
struct InclusionRequest {
    token: String,
    epoch: Option<u64>,
}

async fn inclusion(State(s): State<Shared>, Json(req): Json<InclusionRequest>) -> Response {
    let Some(hash) = TokenHash::of_hex(req.token.trim()) else {
        return not_found(NOT_FOUND);
    };
    let archive = s.archive.clone();
    let found = blocking(move || {
        let path = archive.index_path();
        let located = with_index(&path, |i| {
            let epoch = match req.epoch {
                Some(e) => Some(e),
                None => i.last()?.map(|r| r.epoch),
            };
            Ok(match epoch {
                Some(e) => i.locate(&hash, e)?.map(|id| (e, id)),
                None => None,
            })
        })?;
        let Some((epoch, id)) = located else {
            return Ok(None);
        };
        let file = archive.inclusion_path(epoch, &id);
        std::fs::read(&file)
            .map(Some)
            .map_err(|source| ArchiveError::Io { path: file, source })
    })
    .await;
    match found {
        Ok(Some(bytes)) => (
            StatusCode::OK,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            bytes,
        )
            .into_response(),
        Ok(None) => not_found(NOT_FOUND),
        Err(r) => r,
    }
}

/// The application: every route, behind the per-address rate limit and request tracing.
pub fn router(config: &ServeConfig) -> Result<Router, ArchiveError> {
    let archive = Archive::open(&config.archive)?;
    let public = archive.root().join("public");
    let state: Shared = Arc::new(AppState { archive });
    let mut app = Router::new()
        .route("/health", get(health))
        .route("/api/epochs", get(list_epochs))
        .route("/api/epochs/latest", get(latest_epoch))
        .route("/api/epochs/{epoch}", get(one_epoch))
        .route("/api/inclusion", post(inclusion))
        .nest_service("/public", ServeDir::new(public))
        .with_state(state);
    if let Some(web) = &config.web {
        app = app.fallback_service(ServeDir::new(web));
    }
    let limiter = config.rate.limiter();
    Ok(app
        .layer(axum::middleware::from_fn_with_state(
            limiter,
            limit::per_address,
        ))
        .layer(TraceLayer::new_for_http()))
}

/// Serves `config` on `addr` until ctrl-c; returns the bound address through `bound` first
/// (port 0 picks a free port).
pub async fn serve(
    config: ServeConfig,
    addr: SocketAddr,
    bound: impl FnOnce(SocketAddr),
) -> std::io::Result<()> {
    let app = router(&config).map_err(std::io::Error::other)?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    bound(listener.local_addr()?);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
