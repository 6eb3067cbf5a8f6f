//! The listener: accepts TCP connections and serves HTTP/1.1 on each with the limits that keep
//! slow or numerous clients from exhausting the service (issue "Nobody let in", hole 5).
//!
//! - **Connection limit**: at most [`TransportLimits::max_connections`] connections are
//!   served at once, kept below the process's file-descriptor limit (whose soft value is
//!   raised to the hard one at start, see [`raise_fd_limit`]). A connection over the limit is
//!   answered at once with `503` and `Retry-After` (problem+json) and closed.
//! - **Header-read timeout**: the whole request head must arrive within
//!   [`TransportLimits::header_read_timeout`], counted from the start of the connection or, on
//!   a kept-alive connection, from the end of the previous answer — so it is also the
//!   keep-alive idle timeout. Past it the connection is closed (hyper's timer).
//! - **Idle timeout**: a connection on which no byte moves either way for
//!   [`TransportLimits::idle_timeout`] (e.g. a client that stops reading its answer) is closed.
//!   It is longer than the request timeout, so a request being worked on is never cut.
//!
//! The body-read timeout and the limits on the URI and headers are answered as problems by
//! the router's layers ([`crate::app::layered`]); each request carries the client's address
//! as [`axum::extract::ConnectInfo`].

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;
use tower::Service;

/// File descriptors kept back from the connection limit: the database pool, the data files,
/// the refusals of connections over the limit.
pub const FD_RESERVE: u64 = 256;

/// Connections over the limit being refused at once; beyond this they are dropped unanswered.
const REFUSING_AT_ONCE: usize = 64;

/// The limits of the listener (from [`crate::Config`]).
#[derive(Debug, Clone, Copy)]
pub struct TransportLimits {
    /// Connections served at once.
    pub max_connections: usize,
    /// Until the request head is complete (also the keep-alive idle time).
    pub header_read_timeout: Duration,
    /// No byte moving either way for this long closes the connection.
    pub idle_timeout: Duration,
    /// hyper's read buffer: a request head larger than this is refused by hyper itself (a
    /// bare 431), so it is kept well above the limit the router answers as a problem.
    pub max_head_buffer: usize,
    /// hyper's header count limit (likewise kept above the router's).
    pub max_head_headers: usize,
    /// How long to wait at shutdown for connections to finish their requests.
    pub shutdown_grace: Duration,
}

/// Raises the soft limit on open files to the hard limit (Unix) and returns the soft limit in
/// force, if it could be read.
pub fn raise_fd_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        match rlimit::increase_nofile_limit(u64::MAX) {
            Ok(n) => Some(n),
            Err(e) => {
                tracing::warn!(error = %e, "cannot raise the open-files limit");
                rlimit::Resource::NOFILE.get().ok().map(|(soft, _)| soft)
            }
        }
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// `wanted` connections, lowered if needed to stay [`FD_RESERVE`] below `fd_limit`.
pub fn connection_limit(wanted: usize, fd_limit: Option<u64>) -> usize {
    let Some(fds) = fd_limit else {
        return wanted;
    };
    let room = usize::try_from(fds.saturating_sub(FD_RESERVE)).unwrap_or(usize::MAX);
    let n = wanted.min(room).max(1);
    if n < wanted {
        tracing::warn!(
            wanted,
            allowed = n,
            fd_limit = fds,
            "max_connections lowered to stay below the open-files limit"
        );
    }
    n
}

/// Serves `router` on `listener` within `limits` until `shutdown` completes; then stops
/// accepting, lets each connection finish its request (at most `shutdown_grace`) and returns.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: TransportLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let max = limits.max_connections.max(1);
    let slots = Arc::new(Semaphore::new(max));
    let refusing = Arc::new(Semaphore::new(REFUSING_AT_ONCE));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_head_buffer.max(8192))
        .max_headers(limits.max_head_headers);
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    // e.g. out of file descriptors: wait for some to be freed, do not spin
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        match slots.clone().try_acquire_owned() {
            Ok(slot) => {
                let conn = Connection {
                    builder: builder.clone(),
                    router: router.clone(),
                    peer,
                    idle: limits.idle_timeout,
                    stop: stop_rx.clone(),
                    _slot: slot,
                };
                tokio::spawn(conn.run(stream));
            }
            Err(_) => {
                if let Ok(permit) = refusing.clone().try_acquire_owned() {
                    tokio::spawn(refuse(stream, permit));
                }
                // else: dropped, which closes it
            }
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    if tokio::time::timeout(limits.shutdown_grace, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("shutdown: connections still open after the grace period");
    }
    Ok(())
}

/// One accepted connection and what it needs.
struct Connection {
    builder: Arc<http1::Builder>,
    router: Router,
    peer: SocketAddr,
    idle: Duration,
    stop: watch::Receiver<bool>,
    /// Its place under the connection limit, given back when it closes.
    _slot: OwnedSemaphorePermit,
}

impl Connection {
    async fn run(mut self, stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let activity = Activity::new();
        let io = TokioIo::new(Watched {
            inner: stream,
            activity: activity.clone(),
        });
        let peer = self.peer;
        let router = self.router.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            router.clone().call(req)
        });
        let conn = self.builder.serve_connection(io, service);
        tokio::pin!(conn);
        let mut stopping = *self.stop.borrow();
        if stopping {
            conn.as_mut().graceful_shutdown();
        }
        loop {
            let deadline = activity.last() + self.idle;
            tokio::select! {
                served = conn.as_mut() => {
                    if let Err(e) = served {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                    break;
                }
                () = tokio::time::sleep_until(deadline) => {
                    if activity.last() + self.idle <= Instant::now() {
                        tracing::debug!(%peer, "closing a connection idle for {:?}", self.idle);
                        break;
                    }
                }
                changed = self.stop.changed(), if !stopping => {
                    stopping = true;
                    if changed.is_ok() {
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
        }
    }
}

/// The body of the answer to a connection over the limit.
fn too_many_connections() -> Vec<u8> {
    let p = crate::error::Problem::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "too-many-connections",
        "Service unavailable",
        "the server has as many open connections as it allows; retry after 1 s",
    );
    serde_json::to_vec(&p).unwrap_or_default()
}

/// Answers a connection over the limit with `503` and `Retry-After`, then closes it (after
/// reading what the client sent, so that closing does not reset the connection before the
/// client reads the answer). Bounded in time: a client that neither reads nor closes is
/// dropped after two seconds.
async fn refuse(mut stream: TcpStream, _permit: OwnedSemaphorePermit) {
    let body = too_many_connections();
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n\
         retry-after: 1\r\ncache-control: no-store\r\nx-content-type-options: nosniff\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let answered = async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(&body).await?;
        stream.shutdown().await?;
        let mut buf = [0u8; 2048];
        while stream.read(&mut buf).await? > 0 {}
        Ok::<_, io::Error>(())
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), answered).await;
}

/// When a byte last moved on a connection.
#[derive(Clone)]
struct Activity {
    start: Instant,
    last_ms: Arc<AtomicU64>,
}

impl Activity {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            last_ms: Arc::new(AtomicU64::new(0)),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.start + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }
}

/// A stream that records when bytes move (for the idle timeout).
struct Watched {
    inner: TcpStream,
    activity: Activity,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_limit_stays_below_the_open_files_limit() {
        assert_eq!(connection_limit(4096, Some(20_000)), 4096);
        assert_eq!(connection_limit(4096, Some(1024)), 1024 - 256);
        assert_eq!(connection_limit(4096, None), 4096);
        assert_eq!(connection_limit(10, Some(100)), 1);
    }
}
