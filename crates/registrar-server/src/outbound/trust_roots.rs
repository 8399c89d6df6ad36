//! Extra trust roots for outbound fetches (`outbound.extra_ca_file`): a PEM bundle, checked
//! whole when the configuration is read.

use reqwest::{Certificate, Client};

/// The certificates of a PEM bundle (one or more `-----BEGIN CERTIFICATE-----` blocks), each
/// checked to be a usable trust root, for [`FetchConfig::extra_root_certificates`].
///
/// rustls parses a root only when a client is built, so a client is built per root here: a bad
/// one is a start-up error that names it, not a failing fetch later.
///
/// [`FetchConfig::extra_root_certificates`]: super::FetchConfig::extra_root_certificates
pub fn root_certificates_from_pem(pem: &[u8]) -> Result<Vec<Certificate>, String> {
    let certificates = Certificate::from_pem_bundle(pem)
        .map_err(|_| "is not a PEM bundle of certificates (bad base64)".to_owned())?;
    if certificates.is_empty() {
        return Err("holds no PEM certificate (-----BEGIN CERTIFICATE-----)".to_owned());
    }
    for (index, certificate) in certificates.iter().enumerate() {
        Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(certificate.clone())
            .build()
            .map_err(|_| {
                format!(
                    "certificate {} of {} is not a valid X.509 certificate",
                    index + 1,
                    certificates.len()
                )
            })?;
    }
    Ok(certificates)
}
