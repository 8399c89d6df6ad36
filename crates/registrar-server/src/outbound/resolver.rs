//! The DNS resolvers behind the fetcher: the system one, and the guard that drops forbidden
//! addresses from any resolver's answer.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Decides whether an address may be connected to.
pub(super) type AddressFilter = fn(IpAddr) -> bool;

/// Resolves through the operating system (`getaddrinfo` on a blocking thread).
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            // Port 0 is replaced by the URL's port (or 443) by reqwest.
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let addrs: Addrs = Box::new(addrs.collect::<Vec<_>>().into_iter());
            Ok(addrs)
        })
    }
}

/// Wraps a resolver and keeps only the addresses `permits` accepts.
///
/// reqwest connects only to what its resolver returns, so the check applies to the very
/// addresses connected to: a name that resolves to a public address when checked and to
/// 127.0.0.1 when connected (DNS rebinding) cannot slip through, because there is no second
/// lookup.
pub(super) struct GuardedResolver {
    inner: Arc<dyn Resolve>,
    permits: AddressFilter,
}

impl GuardedResolver {
    pub(super) fn new(inner: Arc<dyn Resolve>, permits: AddressFilter) -> Self {
        Self { inner, permits }
    }
}

impl fmt::Debug for GuardedResolver {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("GuardedResolver")
            .finish_non_exhaustive()
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let resolving = self.inner.resolve(name);
        let permits = self.permits;
        Box::pin(async move {
            let resolved: Vec<SocketAddr> = resolving.await?.collect();
            if resolved.is_empty() {
                return Err(Box::new(NoAddresses) as Box<dyn std::error::Error + Send + Sync>);
            }
            let permitted: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|addr| permits(addr.ip()))
                .collect();
            if permitted.is_empty() {
                return Err(Box::new(ForbiddenAddress));
            }
            let addrs: Addrs = Box::new(permitted.into_iter());
            Ok(addrs)
        })
    }
}

/// Every address a name resolved to was special-use; found in reqwest's error chain and turned
/// into `FetchError::ForbiddenAddress`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("every resolved address is special-use")]
pub(super) struct ForbiddenAddress;

/// The inner resolver answered with no address at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the name resolved to no address")]
struct NoAddresses;
