//! The authorization endpoint and its pages (RFC 6749 §4.1, RFC 7636, RFC 9207, OpenID Connect
//! Core §3.1): checking the request, the login and consent pages, sessions, and issuing codes.

pub mod cookies;
pub mod flow;
pub mod logout;
pub mod pages;
pub mod request;
