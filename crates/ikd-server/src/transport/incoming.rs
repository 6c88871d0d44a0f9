//! Accepting connections so that no client can exhaust the server's sockets.
//!
//! * every accepted socket gets `TCP_NODELAY` (a unary reply larger than one
//!   segment otherwise waits ~40 ms for the client's delayed ACK) and TCP
//!   keep-alive (dead peers are noticed);
//! * at most `max_connections` are open at once: at the cap the server stops
//!   accepting until one closes, instead of running out of descriptors;
//! * a connection that makes no request within the handshake timeout, or has
//!   none in flight for the idle timeout, is closed ([`Conn`]);
//! * replies written in the same scheduler turn leave in one system call
//!   ([`Coalescing`]);
//! * when `accept` fails for lack of descriptors or memory the loop backs off
//!   (10 ms doubling to 1 s) instead of retrying at once and spinning a core.

use super::activity::Activity;
use super::coalesce::Coalescing;
use futures_util::Stream;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};
use tonic::transport::server::Connected;

/// How connections are accepted and when they are closed.
#[derive(Clone, Debug)]
pub struct ConnLimits {
    pub max_connections: usize,
    /// A connection must make its first request within this long.
    pub handshake_timeout: Duration,
    /// A connection with no request in flight for this long is closed.
    pub idle_timeout: Duration,
    /// TCP keep-alive probes after this long without traffic; `None`: off.
    pub tcp_keepalive: Option<Duration>,
}

/// Accepted connections, forever: accept errors are handled here (logged,
/// backed off), so the stream never yields an error.
pub fn incoming(
    listener: TcpListener,
    limits: ConnLimits,
) -> impl Stream<Item = Result<Conn, io::Error>> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let acceptor = Arc::new(Acceptor {
        listener,
        permits,
        limits,
    });
    futures_util::stream::unfold(acceptor, |acceptor| async move {
        let conn = acceptor.accept().await;
        Some((Ok(conn), acceptor))
    })
}

struct Acceptor {
    listener: TcpListener,
    permits: Arc<Semaphore>,
    limits: ConnLimits,
}

impl Acceptor {
    async fn accept(&self) -> Conn {
        let mut backoff = Duration::from_millis(10);
        loop {
            let permit = match self.permits.clone().try_acquire_owned() {
                Ok(permit) => permit,
                Err(_) => {
                    tracing::warn!(
                        max_connections = self.limits.max_connections,
                        "connection limit reached; accepting again when one closes"
                    );
                    self.permits
                        .clone()
                        .acquire_owned()
                        .await
                        .expect("the semaphore is never closed")
                }
            };
            match self.listener.accept().await {
                Ok((stream, peer)) => {
                    self.configure(&stream);
                    return Conn::new(stream, peer, permit, &self.limits);
                }
                Err(e) if out_of_resources(&e) => {
                    tracing::warn!("accept failed ({e}); retrying in {backoff:?}");
                    drop(permit);
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
                // The peer gave up before we accepted (ECONNABORTED and the like).
                Err(e) => tracing::debug!("accept failed: {e}"),
            }
        }
    }

    fn configure(&self, stream: &TcpStream) {
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!("TCP_NODELAY: {e}");
        }
        if let Some(idle) = self.limits.tcp_keepalive {
            let keepalive = socket2::TcpKeepalive::new()
                .with_time(idle)
                .with_interval(idle);
            if let Err(e) = socket2::SockRef::from(stream).set_tcp_keepalive(&keepalive) {
                tracing::debug!("TCP keep-alive: {e}");
            }
        }
    }
}

/// Errors that retrying at once cannot fix: out of descriptors or memory.
fn out_of_resources(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

/// What a request learns about its connection (in the request's extensions).
#[derive(Clone, Debug)]
pub struct ConnInfo {
    pub peer: SocketAddr,
    pub activity: Arc<Activity>,
}

/// An accepted TCP connection that holds one of the connection slots and
/// ends itself (a read error, so the HTTP/2 connection closes) when it makes
/// no first request within the handshake timeout or falls idle.
pub struct Conn {
    stream: Coalescing<TcpStream>,
    info: ConnInfo,
    limits: ConnLimits,
    check: Pin<Box<Sleep>>,
    _slot: OwnedSemaphorePermit,
}

impl Conn {
    fn new(
        stream: TcpStream,
        peer: SocketAddr,
        slot: OwnedSemaphorePermit,
        l: &ConnLimits,
    ) -> Self {
        let activity = Arc::new(Activity::new());
        let first_check = Instant::now() + l.handshake_timeout.min(l.idle_timeout);
        Conn {
            stream: Coalescing::new(stream),
            info: ConnInfo { peer, activity },
            limits: l.clone(),
            check: Box::pin(tokio::time::sleep_until(first_check)),
            _slot: slot,
        }
    }

    /// `Ready(Err)` once the connection has outlived its timeouts; otherwise
    /// arms the timer for the next moment it could and returns `Pending`.
    fn poll_expiry(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            if self.check.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            let activity = &self.info.activity;
            let limits = &self.limits;
            let now = Instant::now();
            match activity.close_at(limits.handshake_timeout, limits.idle_timeout) {
                Some((at, why)) if at <= now.into_std() => {
                    tracing::debug!(peer = %self.info.peer, "closing connection: {why}");
                    return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, why)));
                }
                Some((at, _)) => self.check.as_mut().reset(at.into()),
                // Busy: look again after the idle timeout.
                None => self.check.as_mut().reset(now + limits.idle_timeout),
            }
        }
    }
}

impl Connected for Conn {
    type ConnectInfo = ConnInfo;

    fn connect_info(&self) -> ConnInfo {
        self.info.clone()
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Pending => this.poll_expiry(cx),
            ready => ready,
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// The soft limit on open descriptors, raised to the hard limit first (as Go
/// and nginx do), or `None` where it cannot be read.
pub fn descriptor_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    Some(limit.rlim_cur)
}
