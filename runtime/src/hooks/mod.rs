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
