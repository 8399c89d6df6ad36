//! Tests of `root_certificates_from_pem`: what `outbound.extra_ca_file` may hold.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::outbound::root_certificates_from_pem;

/// `der` as a PEM block with `label`.
fn pem(label: &str, der: &[u8]) -> String {
    let base64 = STANDARD.encode(der);
    let lines: Vec<&str> = base64
        .as_bytes()
        .chunks(64)
        .map(|line| std::str::from_utf8(line).expect("base64 is ascii"))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

fn certificate_pem(name: &str) -> String {
    let certified =
        rcgen::generate_simple_self_signed(vec![name.to_owned()]).expect("certificate generates");
    pem("CERTIFICATE", certified.cert.der())
}

#[test]
fn a_bundle_of_certificates_gives_each_of_them() {
    let bundle = format!("{}{}", certificate_pem("a.test"), certificate_pem("b.test"));

    let roots = root_certificates_from_pem(bundle.as_bytes());

    assert_eq!(roots.map(|roots| roots.len()), Ok(2));
}

#[test]
fn a_file_without_a_certificate_is_refused() {
    let key = rcgen::KeyPair::generate().expect("key generates");
    let key_only = pem("PRIVATE KEY", &key.serialize_der());
    for text in ["", "not pem at all", key_only.as_str()] {
        assert_eq!(
            root_certificates_from_pem(text.as_bytes()).map(|roots| roots.len()),
            Err("holds no PEM certificate (-----BEGIN CERTIFICATE-----)".to_owned()),
            "{text}"
        );
    }
}

#[test]
fn a_certificate_block_that_is_not_x509_is_refused_by_its_position() {
    let junk = "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n";
    let bundle = format!("{}{junk}", certificate_pem("a.test"));
    let bad_base64 = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";

    assert_eq!(
        root_certificates_from_pem(bundle.as_bytes()).map(|roots| roots.len()),
        Err("certificate 2 of 2 is not a valid X.509 certificate".to_owned())
    );
    assert!(root_certificates_from_pem(bad_base64.as_bytes()).is_err());
}
