//! Hand-written parts that specs name: one file per protocol, named after its spec id.
//! Everything else about these protocols (struct, fields, dispatch, tests) is generated.

pub mod dns;
pub mod frelay;
pub mod ftp;
pub mod ftp_data;
pub mod http;
pub mod http2;
pub mod ipoib;
pub mod nflog;
pub mod null;
pub mod ppp;
pub mod tls;

/// Bytes written as hex, whitespace ignored, for the hooks' tests (frames copied from
/// tshark's hex dumps).
#[cfg(test)]
pub(crate) fn test_bytes(hex: &str) -> Vec<u8> {
    let hex: String = hex.split_whitespace().collect();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digits"))
        .collect()
}
