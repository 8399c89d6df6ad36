//! What the bench's test binaries share: an in-process axum server on a real port.

use std::net::SocketAddr;

use axum::Router;
use registrar_bench::generator::Target;

/// Serves `router` on a free port of 127.0.0.1, with each connection's address, until the test
/// ends.
pub async fn serve(router: Router) -> Target {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    Target { address }
}
