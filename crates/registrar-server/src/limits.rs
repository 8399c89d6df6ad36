//! The limits every route group applies.

/// The largest request body accepted; client metadata is small, and a cap bounds the parser's
/// work.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Reads the request body, at most [`MAX_BODY_BYTES`], before the handler runs, and answers
/// `408` when it has not all arrived within `timeout`.
///
/// A client that announces a `Content-Length` and never sends the bytes would otherwise hold
/// the connection and a handler until the request timeout (security.md T14); bodies here are
/// small, so buffering them first costs nothing and gives one place to bound the wait.
pub(crate) async fn read_body_in_time(
    timeout: std::time::Duration,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    use http_body_util::{BodyExt, LengthLimitError, Limited};

    if axum::body::HttpBody::size_hint(request.body()).exact() == Some(0) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let collected =
        match tokio::time::timeout(timeout, Limited::new(body, MAX_BODY_BYTES).collect()).await {
            Ok(Ok(collected)) => collected.to_bytes(),
            Ok(Err(error)) if error.is::<LengthLimitError>() => {
                return crate::ApiError::PayloadTooLarge.into_response();
            }
            Ok(Err(_)) => {
                return crate::ApiError::InvalidRequest(
                    "the request body could not be read".to_owned(),
                )
                .into_response();
            }
            Err(_) => return crate::ApiError::BodyTimeout(timeout).into_response(),
        };
    let request = axum::extract::Request::from_parts(parts, axum::body::Body::from(collected));
    next.run(request).await
}
