//! Modbus/TCP (port 502): the MBAP header and the PDU's function code, per segment and,
//! with `--tcp`, cut from the stream by the MBAP length. Messages of Zeek's and
//! Suricata's Modbus captures, with the values tshark 4.0.17 gives them.

use crate::common::{self, TcpConversation};

/// `pcapkit FILE [--ip --tcp] -e ...` on a conversation.
fn modbus_fields(c: &TcpConversation, reassemble: bool) -> common::Table {
    let args: &[&str] = if reassemble { &["--ip", "--tcp"] } else { &[] };
    common::conversation_fields(
        c,
        args,
        &[
            "frame.protocols",
            "mbtcp.trans_id",
            "mbtcp.len",
            "mbtcp.unit_id",
            "modbus.func_code",
            "modbus.exception_code",
        ],
    )
}

/// Zeek modbusSmall.pcap, frames 14 and 16: Read Coils of three coils at reference 0,
/// and its response (one byte of coils).
const READ_COILS: &str = "0001 0000 0006 01 01 0000 0003";
const COILS: &str = "0001 0000 0004 01 01 01 00";
/// Suricata modbus.pcap, frame 91: an exception response to Read Coils from unit 10,
/// server device busy, and a byte after it (tshark: func_code 1, exception_code 6).
const BUSY: &str = "0001 0000 0004 0a 81 06 00";

#[test]
fn each_message_shows_its_header_and_function() {
    let mut c = TcpConversation::new("10.0.0.1:40000", "10.0.0.2:502");
    c.handshake()
        .send(true, &common::hex(READ_COILS)) // frame 4
        .send(false, &common::hex(COILS)) // 5
        .send(false, &common::hex(BUSY)) // 6
        .close();
    for reassemble in [false, true] {
        let t = modbus_fields(&c, reassemble);
        assert_eq!(
            t.get(4, "frame.protocols"),
            "Ethernet:IPv4:TCP:Modbus/TCP:Modbus"
        );
        assert_eq!(t.get(4, "mbtcp.trans_id"), "1");
        assert_eq!(t.get(4, "mbtcp.len"), "6");
        assert_eq!(t.get(4, "modbus.func_code"), "1");
        assert_eq!(t.get(5, "mbtcp.len"), "4");
        assert_eq!(t.get(6, "mbtcp.unit_id"), "10");
        assert_eq!(t.get(6, "modbus.func_code"), "1");
        assert_eq!(t.get(6, "modbus.exception_code"), "6");
        assert_eq!(t.get(4, "modbus.exception_code"), "");
    }
}

#[test]
fn with_reassembly_the_length_cuts_the_stream() {
    // A request split after its length, then two requests in one segment (the second,
    // Read Holding Registers, made here).
    let request = common::hex(READ_COILS);
    let two = [
        common::hex(READ_COILS),
        common::hex("0002 0000 0006 01 03 0000 0002"),
    ]
    .concat();
    let mut c = TcpConversation::new("10.0.0.1:40000", "10.0.0.2:502");
    c.handshake()
        .send(true, &request[..6]) // frame 4
        .send(true, &request[6..]) // 5: completes it
        .send(true, &two) // 6
        .close();
    let t = modbus_fields(&c, true);
    assert_eq!(t.get(4, "mbtcp.trans_id"), "");
    assert_eq!(t.get(5, "mbtcp.trans_id"), "1");
    assert_eq!(t.get(5, "modbus.func_code"), "1");
    assert_eq!(t.get(6, "mbtcp.trans_id"), "1,2");
    assert_eq!(t.get(6, "modbus.func_code"), "1,3");
}

#[test]
fn another_protocol_on_port_502_is_not_modbus() {
    // The protocol id is not 0: Malformed, with the reason, never values.
    let mut c = TcpConversation::new("10.0.0.1:40000", "10.0.0.2:502");
    c.handshake().send(true, b"GET / HTTP/1.1\r\n\r\n").close();
    let t = modbus_fields(&c, false);
    assert_eq!(t.get(4, "mbtcp.trans_id"), "");
    assert!(
        t.get(4, "frame.protocols").ends_with(":Malformed"),
        "{}",
        t.get(4, "frame.protocols")
    );
}
