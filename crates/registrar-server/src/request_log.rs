//! What ties a request's log lines together: its span (method, path, request id) and the
//! layers that give every request an id and return it in the `x-request-id` response header.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderName, Request};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

/// The header a request id arrives and leaves in.
const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The longest incoming request id kept; a longer one is replaced.
const MAX_REQUEST_ID_LENGTH: usize = 128;

/// Whether an incoming request id is kept: 1 to [`MAX_REQUEST_ID_LENGTH`] visible ASCII
/// characters (`%x21-7E`), so that it cannot break a log line, hide in it or flood it.
fn is_well_formed_request_id(id: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID_LENGTH).contains(&id.len())
        && id.iter().all(|byte| (0x21..=0x7E).contains(byte))
}

/// Gives every request an id and returns it in the `x-request-id` header of every response:
/// the caller's own id when it sent exactly one of 1 to 128 visible ASCII characters
/// (`%x21-7E`), otherwise a random UUID. Put it outside the trace layer
/// whose span should record the id ([`request_span`]).
///
/// A host application that mounts the route groups in its own router adds the same layers
/// around it:
///
/// ```no_run
/// # fn example(state: registrar_server::AppState, my_routes: axum::Router) -> axum::Router {
/// use registrar_server::{registration_routes, request_span, with_request_id};
/// use tower_http::trace::TraceLayer;
///
/// let app = my_routes
///     .merge(registration_routes(state))
///     .layer(TraceLayer::new_for_http().make_span_with(request_span));
/// // Outside the trace layer, so that the span sees the id.
/// with_request_id(app)
/// # }
/// ```
pub fn with_request_id<S>(router: Router<S>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    router
        .layer(PropagateRequestIdLayer::new(REQUEST_ID_HEADER))
        .layer(SetRequestIdLayer::new(REQUEST_ID_HEADER, MakeRequestUuid))
        .layer(axum::middleware::map_request(drop_malformed_request_id))
}

/// Removes an `x-request-id` that is not kept, so that `SetRequestIdLayer` makes a new one: it
/// would keep whatever it found. Sent twice, neither is the request's id.
async fn drop_malformed_request_id(mut request: Request<Body>) -> Request<Body> {
    let headers = request.headers_mut();
    let mut values = headers.get_all(&REQUEST_ID_HEADER).iter();
    let kept = match (values.next(), values.next()) {
        (Some(value), None) => is_well_formed_request_id(value.as_bytes()),
        (None, _) => true,
        (Some(_), Some(_)) => false,
    };
    if !kept {
        headers.remove(&REQUEST_ID_HEADER);
    }
    request
}

/// The span every log line of a request is in: its method, path and request id, never its query
/// string, which may hold credentials: the ID token of a logout's `id_token_hint`, or an
/// `access_token` a client sent there although RFC 6750 §2.3 would have it nowhere else.
/// `tower_http`'s default span records the whole URI.
///
/// It is an `INFO` span, so that the warnings and errors of a request name it at the default
/// level too. An id that is not well-formed is left out, should this span be used without
/// [`with_request_id`].
pub fn request_span(request: &Request<Body>) -> tracing::Span {
    let request_id = request
        .headers()
        .get(&REQUEST_ID_HEADER)
        .filter(|value| is_well_formed_request_id(value.as_bytes()))
        .and_then(|value| value.to_str().ok());
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        version = ?request.version(),
        request_id,
    )
}

#[cfg(test)]
mod tests {
    use super::is_well_formed_request_id;

    #[test]
    fn request_ids_are_visible_ascii_of_at_most_128_characters() {
        for (id, kept) in [
            ("4f1c2a9e-6b1d-4c1e-9a43-2d0a7c1b5e60".as_bytes(), true),
            (b"a", true),
            (b"trace:1/span=2;x!~", true),
            (&[b'a'; 128], true),
            (&[b'a'; 129], false),
            (b"", false),
            (b"two words", false),
            (b"tab\there", false),
            (b"line\nbreak", false),
            (b"del\x7f", false),
            ("caf\u{e9}".as_bytes(), false),
            (b"\x1b[31mred", false),
        ] {
            assert_eq!(
                is_well_formed_request_id(id),
                kept,
                "{:?}",
                String::from_utf8_lossy(id)
            );
        }
    }
}
