//! Conversation state of application protocols that need more than one PDU's bytes:
//! kept in the session per connection and direction, bounded, dropped when the
//! connection ends. Dissectors stay pure; the session hands each dissected PDU here.

pub mod doh;
pub mod http2;
pub mod tls;
