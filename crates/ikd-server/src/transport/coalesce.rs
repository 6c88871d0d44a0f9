//! Writes of one connection gathered into fewer system calls.
//!
//! The HTTP/2 connection writes each reply's frames as soon as the reply is
//! ready, and it writes a DATA frame of more than 256 bytes before it takes the
//! next frame. Under load, many replies of one connection become ready in the
//! same scheduler turn, so a unary `Score` reply (~3.5 KB) cost about two
//! `writev` calls of its own, each a trip through the kernel's TCP stack and a
//! wake-up of the client: more than scoring the respondent.
//!
//! [`Coalescing`] keeps what is written in a buffer and holds a flush back for
//! one turn of the scheduler: the first flush with bytes waiting wakes the
//! task and returns `Pending`, so the connection's task goes to the back of the
//! run queue; the replies that become ready meanwhile join the buffer, and the
//! next flush writes them all at once. A lone reply waits for one task poll
//! (microseconds), not for a timer: nothing is ever held back once the task
//! runs again.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Bytes held beyond this are written before more are taken, so that one
/// connection's buffer stays small and a slow reader slows its writer down.
const HIGH_WATER: usize = 64 * 1024;

/// Capacity an emptied buffer keeps: an idle connection after an export holds no
/// more than HTTP/2's own write buffer, whatever its busiest moment needed.
const RETAINED: usize = 16 * 1024;

/// A stream whose writes are gathered until a flush has waited one turn.
pub struct Coalescing<S> {
    inner: S,
    /// Bytes taken and not yet written; `buf[written..]` is still to go.
    buf: Vec<u8>,
    written: usize,
    /// A flush was held back and the task woken: the next flush writes.
    held: bool,
}

impl<S> Coalescing<S> {
    pub fn new(inner: S) -> Self {
        Coalescing {
            inner,
            buf: Vec::new(),
            written: 0,
            held: false,
        }
    }
}

impl<S: AsyncWrite + Unpin> Coalescing<S> {
    /// Writes what is buffered, until done or the stream would block.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.buf.len() {
            let n = std::task::ready!(
                Pin::new(&mut self.inner).poll_write(cx, &self.buf[self.written..])
            )?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.buf.clear();
        self.buf.shrink_to(RETAINED);
        self.written = 0;
        Poll::Ready(Ok(()))
    }

    /// Makes room for more bytes: a full buffer is written first.
    fn poll_room(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.buf.len() - self.written >= HIGH_WATER {
            std::task::ready!(self.poll_drain(cx))?;
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Coalescing<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Coalescing<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        std::task::ready!(this.poll_room(cx))?;
        this.buf.extend_from_slice(data);
        Poll::Ready(Ok(data.len()))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        slices: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        std::task::ready!(this.poll_room(cx))?;
        let mut taken = 0;
        for slice in slices {
            this.buf.extend_from_slice(slice);
            taken += slice.len();
        }
        Poll::Ready(Ok(taken))
    }

    /// Copying slices into one buffer is what this type is for.
    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.written < this.buf.len() && !this.held {
            // One turn for the other replies of this connection to join these bytes.
            this.held = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        std::task::ready!(this.poll_drain(cx))?;
        this.held = false;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        std::task::ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A writer that records each write it is given as one call.
    #[derive(Clone, Default)]
    struct Recorder {
        calls: Arc<Mutex<Vec<Vec<u8>>>>,
        /// Accept at most this many bytes per write (0: all).
        limit: usize,
    }

    impl AsyncWrite for Recorder {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            data: &[u8],
        ) -> Poll<io::Result<usize>> {
            let n = if self.limit == 0 {
                data.len()
            } else {
                data.len().min(self.limit)
            };
            self.calls.lock().unwrap().push(data[..n].to_vec());
            Poll::Ready(Ok(n))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    /// Writes and flushes of one turn reach the stream as one write, in order.
    #[tokio::test]
    async fn writes_of_one_turn_become_one_write() {
        let recorder = Recorder::default();
        let mut out = Coalescing::new(recorder.clone());
        out.write_all(b"HEADERS").await.unwrap();
        let slices = [io::IoSlice::new(b"DATA-1"), io::IoSlice::new(b"DATA-2")];
        assert_eq!(out.write_vectored(&slices).await.unwrap(), 12);
        assert!(
            recorder.calls.lock().unwrap().is_empty(),
            "nothing written yet"
        );
        out.flush().await.unwrap();
        out.write_all(b"TRAILERS").await.unwrap();
        out.flush().await.unwrap();
        let calls = recorder.calls.lock().unwrap().clone();
        assert_eq!(
            calls,
            [b"HEADERSDATA-1DATA-2".to_vec(), b"TRAILERS".to_vec()]
        );
    }

    /// The first flush with bytes waiting yields once; the second writes them.
    #[tokio::test]
    async fn a_flush_waits_one_poll_and_no_longer() {
        let recorder = Recorder::default();
        let mut out = Coalescing::new(recorder.clone());
        out.write_all(b"reply").await.unwrap();
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut out).poll_flush(&mut cx).is_pending());
        assert!(matches!(
            Pin::new(&mut out).poll_flush(&mut cx),
            Poll::Ready(Ok(()))
        ));
        assert_eq!(recorder.calls.lock().unwrap().concat(), b"reply");
        // Nothing waiting: a flush is done at once.
        assert!(Pin::new(&mut out).poll_flush(&mut cx).is_ready());
    }

    /// Partial writes, a full buffer written before more is taken, and shutdown
    /// writing what is held: every byte arrives once and in order.
    #[tokio::test]
    async fn every_byte_arrives_in_order_through_partial_writes() {
        let recorder = Recorder {
            limit: 1000,
            ..Recorder::default()
        };
        let mut out = Coalescing::new(recorder.clone());
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        for chunk in data.chunks(7_777) {
            out.write_all(chunk).await.unwrap();
            assert!(out.buf.len() - out.written < HIGH_WATER + 7_777);
        }
        out.shutdown().await.unwrap();
        assert_eq!(recorder.calls.lock().unwrap().concat(), data);
        assert!(
            out.buf.capacity() <= RETAINED,
            "an emptied buffer gives memory back"
        );
    }

    /// Over a real socket pair with a peer reading: back-pressure and delivery.
    #[tokio::test]
    async fn a_socket_peer_reads_everything_written() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let reader = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut got = Vec::new();
            socket.read_to_end(&mut got).await.unwrap();
            got
        });
        let mut out = Coalescing::new(tokio::net::TcpStream::connect(addr).await.unwrap());
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 241) as u8).collect();
        for chunk in data.chunks(3_500) {
            out.write_all(chunk).await.unwrap();
            out.flush().await.unwrap();
        }
        out.shutdown().await.unwrap();
        assert_eq!(reader.await.unwrap(), data);
    }
}
