//! Table tests of `is_special_use`.

use std::net::IpAddr;

use crate::net::is_special_use;

/// Asserts that `address` is special-use (`true`) or may be fetched from (`false`).
#[track_caller]
fn check(address: &str, special_use: bool) {
    let ip: IpAddr = address.parse().expect("test address parses");
    assert_eq!(is_special_use(ip), special_use, "{address}");
}

#[test]
fn ipv4_special_purpose_blocks_are_special_use() {
    for address in [
        "0.0.0.0",
        "0.255.255.255",
        "10.0.0.1",
        "10.255.255.255",
        "100.64.0.0",
        "100.127.255.255",
        "127.0.0.1",
        "127.255.255.254",
        "169.254.169.254",
        "169.254.0.1",
        "172.16.0.1",
        "172.31.255.255",
        "192.0.0.1",
        "192.0.0.9",
        "192.0.2.1",
        "192.88.99.1",
        "192.168.0.1",
        "192.168.255.255",
        "198.18.0.1",
        "198.19.255.255",
        "198.51.100.7",
        "203.0.113.9",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.254",
        "255.255.255.255",
    ] {
        check(address, true);
    }
}

#[test]
fn ipv4_public_addresses_and_block_neighbours_are_not_special_use() {
    for address in [
        "1.1.1.1",
        "8.8.8.8",
        "9.255.255.255",
        "11.0.0.0",
        "100.63.255.255",
        "100.128.0.0",
        "126.255.255.255",
        "128.0.0.0",
        "169.253.255.255",
        "169.255.0.0",
        "172.15.255.255",
        "172.32.0.0",
        "192.0.1.1",
        "192.0.3.1",
        "192.88.98.1",
        "192.167.255.255",
        "192.169.0.0",
        "198.17.255.255",
        "198.20.0.0",
        "198.51.99.1",
        "203.0.112.1",
        "223.255.255.255",
    ] {
        check(address, false);
    }
}

#[test]
fn ipv6_special_purpose_blocks_are_special_use() {
    for address in [
        "::",
        "::1",
        "::2",
        "::7f00:1",
        "::a00:1",
        "::808:808",
        "64:ff9b:1::1",
        "64:ff9b:1:ffff::808:808",
        "100::1",
        "100::ffff:ffff:ffff:ffff",
        "2001::1",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        "2001:1ff:ffff::1",
        "2001:db8::1",
        "2001:db8:ffff::1",
        "3fff::1",
        "3fff:fff::1",
        "5f00::1",
        "fc00::1",
        "fd00::1",
        "fdff:ffff::1",
        "fe80::1",
        "febf::1",
        "fec0::1",
        "feff::1",
        "ff00::1",
        "ff02::1",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    ] {
        check(address, true);
    }
}

#[test]
fn ipv6_outside_global_unicast_is_special_use() {
    for address in ["1::1", "4000::1", "8000::1", "e000::1", "fb00::1"] {
        check(address, true);
    }
}

#[test]
fn ipv6_public_addresses_are_not_special_use() {
    for address in [
        "2001:200::1",
        "2001:4860:4860::8888",
        "2606:4700:4700::1111",
        "2a00:1450:4001:80b::200e",
        "2001:db7:ffff::1",
        "2001:db9::1",
        "3ffe::1",
        "3fff:1000::1",
        "2003::1",
    ] {
        check(address, false);
    }
}

#[test]
fn ipv4_mapped_ipv6_follows_the_ipv4_rules() {
    check("::ffff:127.0.0.1", true);
    check("::ffff:7f00:1", true);
    check("::ffff:10.0.0.1", true);
    check("::ffff:169.254.169.254", true);
    check("::ffff:0.0.0.0", true);
    check("::ffff:255.255.255.255", true);
    check("::ffff:8.8.8.8", false);
    check("::ffff:1.1.1.1", false);
}

#[test]
fn nat64_well_known_prefix_follows_the_embedded_ipv4_rules() {
    check("64:ff9b::127.0.0.1", true);
    check("64:ff9b::a9fe:a9fe", true);
    check("64:ff9b::192.168.1.1", true);
    check("64:ff9b::8.8.8.8", false);
}

#[test]
fn six_to_four_follows_the_embedded_ipv4_rules() {
    check("2002:7f00:1::1", true);
    check("2002:a00:1::", true);
    check("2002:a9fe:a9fe::1", true);
    check("2002:c0a8:101::1", true);
    check("2002:808:808::1", false);
}
