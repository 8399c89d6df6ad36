//! Which IP addresses an outbound fetch may connect to and a registered URL may name: not the
//! IANA special-purpose ones.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One row of a special-purpose address registry: network and prefix length.
type V4Block = ([u8; 4], u32);
type V6Block = ([u16; 8], u32);

/// The IANA IPv4 Special-Purpose Address Registry (RFC 6890 and its updates), plus multicast
/// and the reserved 240/4, whose last address is the limited broadcast 255.255.255.255.
///
/// A few rows of the registry are marked globally reachable (192.0.0.9/32, 192.0.0.10/32);
/// refusing the whole 192.0.0.0/24 costs nothing, since no client hosts a JWK Set there.
#[rustfmt::skip]
const SPECIAL_USE_V4: &[V4Block] = &[
    ([0, 0, 0, 0], 8),        // This network, RFC 791.
    ([10, 0, 0, 0], 8),       // Private use, RFC 1918.
    ([100, 64, 0, 0], 10),    // Shared address space (carrier-grade NAT), RFC 6598.
    ([127, 0, 0, 0], 8),      // Loopback, RFC 1122.
    ([169, 254, 0, 0], 16),   // Link local, cloud metadata services, RFC 3927.
    ([172, 16, 0, 0], 12),    // Private use, RFC 1918.
    ([192, 0, 0, 0], 24),     // IETF protocol assignments, RFC 6890.
    ([192, 0, 2, 0], 24),     // Documentation TEST-NET-1, RFC 5737.
    ([192, 88, 99, 0], 24),   // 6to4 relay anycast, RFC 7526.
    ([192, 168, 0, 0], 16),   // Private use, RFC 1918.
    ([198, 18, 0, 0], 15),    // Benchmarking, RFC 2544.
    ([198, 51, 100, 0], 24),  // Documentation TEST-NET-2, RFC 5737.
    ([203, 0, 113, 0], 24),   // Documentation TEST-NET-3, RFC 5737.
    ([224, 0, 0, 0], 4),      // Multicast, RFC 5771.
    ([240, 0, 0, 0], 4),      // Reserved and limited broadcast, RFC 1112, RFC 919.
];

/// The IANA IPv6 Special-Purpose Address Registry, plus the non-unicast and deprecated blocks.
///
/// The three blocks that embed an IPv4 address (IPv4-mapped, the NAT64 well-known prefix and
/// 6to4) are not here: [`embedded_ipv4`] hands their IPv4 address to the IPv4 rules instead.
#[rustfmt::skip]
const SPECIAL_USE_V6: &[V6Block] = &[
    ([0, 0, 0, 0, 0, 0, 0, 0], 96),           // Unspecified, loopback, IPv4-compatible, RFC 4291.
    ([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48),   // Local-use NAT64, RFC 8215.
    ([0x100, 0, 0, 0, 0, 0, 0, 0], 64),       // Discard only, RFC 6666.
    ([0x2001, 0, 0, 0, 0, 0, 0, 0], 23),      // IETF protocol assignments, Teredo, RFC 2928.
    ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32),  // Documentation, RFC 3849.
    ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20),      // Documentation, RFC 9637.
    ([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16),      // Segment routing SIDs, RFC 9602.
    ([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7),       // Unique local, RFC 4193.
    ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10),      // Link local, RFC 4291.
    ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10),      // Site local (deprecated), RFC 3879.
    ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8),       // Multicast, RFC 4291.
];

/// The only IPv6 block IANA hands out for public unicast, RFC 4291 §2.4.
const GLOBAL_UNICAST_V6: V6Block = ([0x2000, 0, 0, 0, 0, 0, 0, 0], 3);

/// Whether `ip` belongs to a special-purpose block, so that an outbound fetch must not connect
/// to it (SSRF, security.md T1/T2).
///
/// IPv6 forms that carry an IPv4 address (`::ffff:a.b.c.d`, `64:ff9b::a.b.c.d`,
/// `2002:AABB:CCDD::/48`) are judged by that IPv4 address; IPv6 outside 2000::/3 is refused
/// because nothing public lives there.
pub fn is_special_use(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ipv4) => is_special_use_v4(ipv4),
        IpAddr::V6(ipv6) => is_special_use_v6(ipv6),
    }
}

fn is_special_use_v4(ip: Ipv4Addr) -> bool {
    SPECIAL_USE_V4
        .iter()
        .any(|&(network, prefix_len)| in_v4_block(ip, network, prefix_len))
}

fn is_special_use_v6(ip: Ipv6Addr) -> bool {
    if let Some(ipv4) = embedded_ipv4(ip) {
        return is_special_use_v4(ipv4);
    }
    let (global_unicast, global_len) = GLOBAL_UNICAST_V6;
    !in_v6_block(ip, global_unicast, global_len)
        || SPECIAL_USE_V6
            .iter()
            .any(|&(network, prefix_len)| in_v6_block(ip, network, prefix_len))
}

/// The IPv4 address an IPv6 address stands for, where the IPv6 form is a translation that a
/// host or a gateway turns back into IPv4 on the way out.
fn embedded_ipv4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let bits = u128::from(ip);
    // RFC 4291 §2.5.5.2: ::ffff:0:0/96, IPv4-mapped.
    let ipv4_mapped = [0, 0, 0, 0, 0, 0xffff, 0, 0];
    // RFC 6052 §2.1: 64:ff9b::/96, the NAT64 well-known prefix.
    let nat64 = [0x64, 0xff9b, 0, 0, 0, 0, 0, 0];
    if in_v6_block(ip, ipv4_mapped, 96) || in_v6_block(ip, nat64, 96) {
        return Some(Ipv4Addr::from(low_32_bits(bits)));
    }
    // RFC 3056 §2: 2002:AABB:CCDD::/48, 6to4, carries the IPv4 address in bits 16 to 47.
    let six_to_four = [0x2002, 0, 0, 0, 0, 0, 0, 0];
    if in_v6_block(ip, six_to_four, 16) {
        return Some(Ipv4Addr::from(low_32_bits(bits >> 80)));
    }
    None
}

fn low_32_bits(bits: u128) -> u32 {
    u32::try_from(bits & u128::from(u32::MAX)).unwrap_or(u32::MAX)
}

fn in_v4_block(ip: Ipv4Addr, network: [u8; 4], prefix_len: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - prefix_len).unwrap_or(0);
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(network)) & mask
}

fn in_v6_block(ip: Ipv6Addr, network: [u16; 8], prefix_len: u32) -> bool {
    let mask = u128::MAX.checked_shl(128 - prefix_len).unwrap_or(0);
    u128::from(ip) & mask == u128::from(Ipv6Addr::from(network)) & mask
}
