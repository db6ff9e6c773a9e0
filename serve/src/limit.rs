//! Per-client-address rate limiting: a token bucket per IP address (`governor`), refilled at
//! `per_second` with room for `burst`; an empty bucket answers `429 Too Many Requests`.
//! Every 4,096 requests, addresses whose bucket has refilled (idle for `burst / per_second`
//! seconds) are forgotten, so memory stays bounded by recent clients.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use governor::clock::DefaultClock;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use serde_json::json;

/// Requests per second and burst size allowed to one client address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests per second.
    pub per_second: NonZeroU32,
    /// Burst size.
    pub burst: NonZeroU32,
}

impl Default for RateLimit {
    /// 20 requests per second, bursts of 40: far above what a person checking an account
    /// needs, far below what enumerating tokens would.
    fn default() -> Self {
        RateLimit {
            per_second: NonZeroU32::new(20).expect("non-zero"),
            burst: NonZeroU32::new(40).expect("non-zero"),
        }
    }
}

pub struct Limiter {
    buckets: RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock>,
    checks: AtomicU64,
}

/// Buckets are pruned once every this many requests.
const PRUNE_EVERY: u64 = 4096;

impl RateLimit {
    /// A limiter enforcing this limit per client address.
    pub fn limiter(&self) -> Arc<Limiter> {
        let quota = Quota::per_second(self.per_second).allow_burst(self.burst);
        Arc::new(Limiter {
            buckets: RateLimiter::keyed(quota),
            checks: AtomicU64::new(0),
        })
    }
}

impl Limiter {
    /// Whether `ip` may make one more request now.
    pub fn allow(&self, ip: IpAddr) -> bool {
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.buckets.retain_recent();
            self.buckets.shrink_to_fit();
        }
        self.buckets.check_key(&ip).is_ok()
    }

    /// Client addresses currently remembered.
    pub fn tracked(&self) -> usize {
        self.buckets.len()
    }
}

pub async fn per_address(
    State(limiter): State<Arc<Limiter>>,
    req: Request,
    next: Next,
) -> Response {
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    if !limiter.allow(ip) {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({ "error": "rate limited" })),
        )
            .into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_refused_per_address() {
        let limit = RateLimit {
            per_second: NonZeroU32::new(1).unwrap(),
            burst: NonZeroU32::new(3).unwrap(),
        };
        let l = limit.limiter();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        assert!((0..3).all(|_| l.allow(a)));
        assert!(!l.allow(a), "the fourth request within a second is refused");
        assert!(l.allow(b), "another address has its own bucket");
        assert_eq!(l.tracked(), 2);
    }
}
