//! The accept loop the `registrar` binary serves a router with; a host application may use it
//! too, or keep its own server and set the same limits there.
//!
//! `axum::serve` sets no timer on hyper, so hyper's header read timeout never fires: a client
//! that sends its headers one byte a minute (slow loris), or opens a connection and says
//! nothing, holds a connection and a task for ever. Here every wait for a request head, idle
//! keep-alive waits included, is bounded; [`read_body_in_time`](crate::RouterOptions) bounds the
//! body.

use std::future::Future;
use std::io;
use std::pin::pin;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// Connection limits of [`serve`].
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// How long a client may take to send a request's headers, counted from when the server
    /// starts waiting for them (so also the idle time allowed between keep-alive requests); the
    /// connection is closed when it runs out.
    pub header_read_timeout: Duration,
    /// How long in-flight requests may take to finish once shutdown begins; connections still
    /// open then are dropped.
    pub shutdown_grace: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(5),
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting and lets
/// in-flight requests finish within [`ServeOptions::shutdown_grace`].
///
/// Handlers see the peer address as `ConnectInfo<SocketAddr>`, as with axum's
/// `into_make_service_with_connect_info`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout);
    let connections = GracefulShutdown::new();
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors or a connection reset before it was accepted:
                    // the listener itself is fine, so keep serving, but do not spin on EMFILE.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Responses are small and written whole: waiting for more bytes only adds latency.
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        // Handlers see the peer as axum's `into_make_service_with_connect_info` shows it.
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request.map(Body::new))
        });
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = connections.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                // A client that goes away or times out mid-request; nothing to act on.
                tracing::debug!(%error, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(options.shutdown_grace, connections.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace = ?options.shutdown_grace,
            "requests still in flight after the shutdown grace period are dropped"
        );
    }
    Ok(())
}
