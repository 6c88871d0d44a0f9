//! Whether a connection is in use: requests in flight and when the last one
//! started or ended. Shared by the connection (which closes itself when
//! unused too long) and the request layer (which counts requests).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

/// `last_ms` before the first request.
const NEVER: u64 = u64::MAX;

#[derive(Debug)]
pub struct Activity {
    opened: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds after `opened` at which a request last started or ended.
    last_ms: AtomicU64,
}

impl Default for Activity {
    fn default() -> Self {
        Self::new()
    }
}

impl Activity {
    pub fn new() -> Self {
        Activity {
            opened: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_ms: AtomicU64::new(NEVER),
        }
    }

    /// Counts a request until the returned guard is dropped (when its
    /// response has been sent).
    pub fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, SeqCst);
        self.touch();
        InFlight(self.clone())
    }

    fn touch(&self) {
        let ms = self.opened.elapsed().as_millis().min(u128::from(NEVER - 1)) as u64;
        self.last_ms.store(ms, SeqCst);
    }

    /// When the connection should be closed and why, if nothing happens
    /// before then; `None` while a request is in flight.
    pub fn close_at(&self, handshake: Duration, idle: Duration) -> Option<(Instant, &'static str)> {
        if self.in_flight.load(SeqCst) > 0 {
            return None;
        }
        match self.last_ms.load(SeqCst) {
            NEVER => Some((
                self.opened + handshake,
                "no request within the handshake timeout",
            )),
            ms => Some((
                self.opened + Duration::from_millis(ms) + idle,
                "idle for the idle timeout",
            )),
        }
    }
}

/// One request in flight on a connection.
#[derive(Debug)]
pub struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        // Touch first, so a reader that sees the count drop sees the new time.
        self.0.touch();
        self.0.in_flight.fetch_sub(1, SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_then_idle_then_busy() {
        let a = Arc::new(Activity::new());
        let (h, i) = (Duration::from_secs(10), Duration::from_secs(120));
        let (at, why) = a.close_at(h, i).unwrap();
        assert_eq!(at, a.opened + h);
        assert!(why.contains("handshake"));
        let guard = a.begin();
        assert!(a.close_at(h, i).is_none(), "busy connections stay open");
        drop(guard);
        let (at, why) = a.close_at(h, i).unwrap();
        assert!(why.contains("idle"));
        assert!(at >= a.opened + i);
    }
}
