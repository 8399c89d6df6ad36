//! The error responses many operations share, as reusable response components: their status
//! text, headers and error body.

use utoipa::ToResponse;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{Content, Ref, RefOr, Response, ResponseBuilder};

/// A JSON error response whose body is the schema component `schema` and with the given
/// headers (name, description).
fn error_response(schema: &str, description: &str, headers: &[(&str, &str)]) -> Response {
    let mut builder = ResponseBuilder::new().description(description).content(
        "application/json",
        Content::new(Some(Ref::from_schema_name(schema))),
    );
    for (name, header_description) in headers {
        builder = builder.header(
            *name,
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::String))
                .description(Some(*header_description))
                .build(),
        );
    }
    builder.build()
}

/// Declares unit types whose `ToResponse` is an error response.
macro_rules! error_responses {
    ($($(#[$meta:meta])* $name:ident: $code:ident, $description:literal, [$(($header:literal, $header_description:literal)),*];)+) => {
        $(
            $(#[$meta])*
            pub(crate) struct $name;

            impl<'s> ToResponse<'s> for $name {
                fn response() -> (&'s str, RefOr<Response>) {
                    (
                        stringify!($name),
                        // The name utoipa gives the component `ErrorResponse<$code>`.
                        error_response(
                            concat!("ErrorResponse_", stringify!($code)),
                            $description,
                            &[$(($header, $header_description)),*],
                        )
                        .into(),
                    )
                }
            }
        )+
    };
}

error_responses! {
    /// RFC 6750 §3.
    InvalidToken: InvalidTokenCode,
        "A missing, wrong, expired or used-up bearer token.",
        [("WWW-Authenticate", "`Bearer error=\"invalid_token\"`.")];
    /// RFC 6749 §5.2.
    InvalidClient: InvalidClientCode,
        "Client authentication failed: unknown client, another method registered, wrong secret or signature, expired or blocked client. The same answer for each, so it reveals nothing.",
        [("WWW-Authenticate", "`Basic realm=\"registrar\"`, when the client used HTTP Basic.")];
    /// The body limit (`MAX_BODY_BYTES`).
    PayloadTooLarge: InvalidRequestCode,
        "The request body is over 65536 bytes.",
        [];
    /// A JSON endpoint sent another content type.
    UnsupportedMediaType: InvalidRequestCode,
        "The request body is not `application/json`.",
        [];
    /// The router's body read timeout.
    BodyTimeout: InvalidRequestCode,
        "The request body did not arrive within the body read timeout.",
        [("Connection", "`close`: the rest of the body may still come.")];
    /// A rate limit.
    TooManyRequests: RateLimitCode,
        "A rate limit applies (`rate_limits`).",
        [("Retry-After", "Seconds until a retry may succeed.")];
    /// The store is unavailable, or the request took longer than the request timeout.
    Unavailable: UnavailableCode,
        "The store is unavailable, or the request did not finish within the request timeout.",
        [("Retry-After", "Seconds until a retry may succeed.")];
    /// Anything unexpected; logged, never echoed.
    ServerError: ServerErrorCode,
        "An unexpected failure; the detail is only logged.",
        [];
}
