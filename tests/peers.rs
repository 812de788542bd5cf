//! The third-party engines (etherparse, pnet, tshark: PyPCAPKit's dpkt, scapy and
//! pyshark) against the default engine: the same envelopes (numbers, times, lengths),
//! the same chain as far as the backend decodes, their fields as the frames were built,
//! the thresholds, no panic on cut frames, and clear errors.
//!
//! Where chains legitimately differ (the backend stops earlier, and is compared only up
//! to there): etherparse and pnet decode nothing above the transport (our HTTP, DNS, ...
//! are their `Raw`), nor what an ICMP error quotes, nor tunnels (GRE, Teredo, VXLAN...);
//! pnet does not follow IPv6 extension headers; etherparse slices Linux cooked captures
//! but no other link type than Ethernet, SLL and raw IP; tshark names undissected bytes
//! `data`, knows protocols we do not, and names a few of ours its way (`SAME`); a backend
//! that checks less than we do still names a header we find malformed. The comparison
//! stops at the first layer of the backend's that is not one of our protocols, and at our
//! `Raw` or `Malformed`.

use std::path::{Path, PathBuf};

use pcapkit::chain::Frame;
use pcapkit::{EngineKind, Extractor, ForeignValue, Level, ProtocolId, Thresholds};
use pcapkit_testkit::net::{
    ethernet, ipv4_tcp, ipv4_udp, push_arp, push_ethernet, VlanTag, ARP_REQUEST, MAC_A, MAC_B,
};
use pcapkit_testkit::pcap::{pcap_file, PcapRecord};

use crate::common;

const FOREIGN: [EngineKind; 3] = [EngineKind::Etherparse, EngineKind::Pnet, EngineKind::Tshark];

/// The engines to run: tshark only where it is installed (said on stderr otherwise).
fn engines() -> Vec<EngineKind> {
    let tshark = common::have_tshark();
    if !tshark {
        eprintln!("tshark is not installed: the tshark engine is not compared");
    }
    FOREIGN
        .into_iter()
        .filter(|e| *e != EngineKind::Tshark || tshark)
        .collect()
}

/// Every frame an engine gives, and its warnings.
fn frames(capture: &Path, engine: EngineKind, thresholds: Thresholds) -> (Vec<Frame>, Vec<String>) {
    let mut b = Extractor::builder()
        .input(capture)
        .nofile(true)
        .store(true)
        .engine(engine);
    if let Some(l) = thresholds.layer {
        b = b.layer(l);
    }
    if let Some(p) = thresholds.protocol {
        b = b.protocol(p);
    }
    let x = b
        .run()
        .unwrap_or_else(|e| panic!("{engine} on {}: {e}", capture.display()));
    (x.frames().to_vec(), x.warnings().to_vec())
}

fn chain(f: &Frame) -> Vec<&'static str> {
    f.layers.iter().map(|l| l.name).collect()
}

/// Ours, and the name tshark gives the same layer (it calls SLL2 `sll`, DNS over TCP `dns`,
/// and RARP, InARP and DRARP `arp`).
const SAME: &[(&str, &str)] = &[
    ("SLL2", "SLL"),
    ("DNS-TCP", "DNS"),
    ("RARP", "ARP"),
    ("InARP", "ARP"),
    ("DRARP", "ARP"),
];

/// Our protocols' display names: where a backend's chain leaves them, it stops.
fn ours(name: &str) -> bool {
    ProtocolId::ALL.iter().any(|p| p.name() == name)
}

/// What differs between the default engine's frames and a backend's: the envelope
/// always counts, the chain as far as the backend names our protocols.
fn differences(expected: &[Frame], got: &[Frame], engine: EngineKind) -> Vec<String> {
    let mut out = Vec::new();
    if expected.len() != got.len() {
        out.push(format!("{} frames, not {}", got.len(), expected.len()));
    }
    for (e, g) in expected.iter().zip(got) {
        let envelope = |f: &Frame| (f.number, f.timestamp, f.len, f.cap_len);
        if envelope(e) != envelope(g) {
            out.push(format!(
                "frame {}: envelope {:?} != {:?}",
                e.number,
                envelope(g),
                envelope(e)
            ));
        }
        // RawIP is an empty layer of ours (a link type, or what GTP carries) tshark omits.
        let (mut ce, mut cg) = (chain(e), chain(g));
        ce.retain(|n| *n != "RawIP");
        cg.retain(|n| *n != "RawIP");
        // HTTP that hands its connection to HTTP/2 (a preface, an h2c upgrade) is an
        // empty layer to tshark, named before HTTP/2; ours dissects HTTP/2 directly.
        if let Some(k) = cg.windows(2).position(|w| w == ["HTTP", "HTTP2"]) {
            if ce.get(k) == Some(&"HTTP2") {
                cg.remove(k);
            }
        }
        let mut known: Vec<&str> = cg.iter().copied().take_while(|n| ours(n)).collect();
        // Where we find a header malformed, a backend that checks less (pnet takes an
        // IPv4 header with IHL 0) still names the protocol: compared up to there.
        if let Some(bad) = ce.iter().position(|n| *n == "Malformed") {
            known.truncate(bad);
        }
        // Where our engine stops (Raw), a backend that knows more goes on (tshark: MH,
        // NFS, HTTP/2 after an Upgrade): compared up to there.
        if let Some(raw) = ce.iter().position(|n| *n == "Raw") {
            known.truncate(raw);
        }
        // On a frame cut short, tshark names the protocol it would have dissected next,
        // with no bytes (then `_ws.malformed`): compared up to the end of ours.
        if engine == EngineKind::Tshark && g.cap_len < g.len {
            known.truncate(ce.len());
        }
        // The backend stops earlier; past its last known layer, it is not compared.
        let same = |(a, b): (&&str, &&str)| a == b || SAME.contains(&(*a, *b));
        if ce.len() < known.len() || !ce.iter().zip(&known).all(same) {
            out.push(format!(
                "frame {}: {engine} chain {} is not the start of {}",
                e.number,
                cg.join(":"),
                ce.join(":")
            ));
        }
        // A cut frame must not leave a backend claiming more than the bytes.
        for l in &g.layers {
            assert!(
                l.offset + l.header_len <= g.cap_len as usize,
                "{engine} frame {}",
                g.number
            );
        }
        assert_eq!(
            g.foreign.len(),
            g.layers.len(),
            "{engine} frame {}",
            g.number
        );
    }
    out
}

/// A capture of a few well-known frames, and what each holds.
fn built(dir: &Path) -> PathBuf {
    let tcp = ethernet(
        MAC_B,
        MAC_A,
        0x0800,
        &ipv4_tcp([10, 0, 0, 1], [10, 0, 0, 2], 40000, 9999, b"hello"),
    );
    let mut vlan = Vec::new();
    let tag = VlanTag {
        tpid: 0x8100,
        pcp: 3,
        dei: false,
        vid: 100,
    };
    push_ethernet(&mut vlan, MAC_A, MAC_B, &[tag], 0x0800);
    vlan.extend_from_slice(&ipv4_udp(
        [192, 168, 1, 1],
        [192, 168, 1, 2],
        5000,
        6000,
        b"x",
    ));
    let mut arp = Vec::new();
    push_ethernet(&mut arp, [0xff; 6], MAC_A, &[], 0x0806);
    push_arp(
        &mut arp,
        ARP_REQUEST,
        MAC_A,
        [10, 0, 0, 1],
        [0; 6],
        [10, 0, 0, 9],
    );
    let other = ethernet(MAC_B, MAC_A, 0x88b5, b"abcd");
    let records: Vec<PcapRecord> = [tcp, vlan, arp, other]
        .into_iter()
        .enumerate()
        .map(|(i, f)| PcapRecord::new(1_700_000_000 + i as u32, 250, f))
        .collect();
    common::write_file(dir, "built.pcap", &pcap_file(1, &records))
}

fn uint(f: &Frame, layer: usize, field: &str) -> Option<u64> {
    match f.foreign.get(layer)?.field(field)? {
        ForeignValue::Uint(v) => Some(*v),
        ForeignValue::Text(t) => t.parse().ok(),
        _ => None,
    }
}

#[test]
fn etherparse_and_pnet_give_the_default_envelopes_and_the_fields_built() {
    let dir = tempfile::tempdir().unwrap();
    let capture = built(dir.path());
    let (expected, _) = frames(&capture, EngineKind::Default, Thresholds::default());
    assert_eq!(chain(&expected[0]), ["Ethernet", "IPv4", "TCP", "Raw"]);
    for engine in [EngineKind::Etherparse, EngineKind::Pnet] {
        let (got, warnings) = frames(&capture, engine, Thresholds::default());
        assert!(warnings.is_empty(), "{engine}: {warnings:?}");
        assert_eq!(differences(&expected, &got, engine), Vec::<String>::new());
        // Here they decode every layer, as the default engine does.
        for (e, g) in expected.iter().zip(&got) {
            assert_eq!(chain(g), chain(e), "{engine} frame {}", e.number);
        }
        let tcp = &got[0];
        assert_eq!(
            tcp.foreign[1].field("src"),
            Some(&ForeignValue::Ipv4([10, 0, 0, 1].into()))
        );
        assert_eq!(uint(tcp, 1, "ttl"), Some(64));
        assert_eq!(uint(tcp, 2, "srcport"), Some(40000));
        assert_eq!(uint(tcp, 2, "dstport"), Some(9999));
        assert_eq!(uint(tcp, 2, "seq"), Some(1000));
        // The payload: 5 bytes after 14 + 20 + 20.
        assert_eq!((tcp.layers[3].offset, tcp.layers[3].header_len), (54, 5));
        let vlan = &got[1];
        assert_eq!(uint(vlan, 1, "vid"), Some(100));
        assert_eq!(uint(vlan, 1, "pcp"), Some(3));
        assert_eq!(uint(vlan, 3, "dstport"), Some(6000));
        assert_eq!(uint(vlan, 3, "len"), Some(9));
        let arp = &got[2];
        assert_eq!(
            arp.foreign[1].field("tpa"),
            Some(&ForeignValue::Ipv4([10, 0, 0, 9].into()))
        );
        assert_eq!(uint(arp, 1, "oper"), Some(1));
        assert_eq!(uint(&got[3], 0, "type"), Some(0x88b5));
    }
}

#[test]
fn tshark_gives_the_default_envelopes_and_its_own_field_names() {
    if !common::have_tshark() {
        eprintln!("tshark is not installed: skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let capture = built(dir.path());
    let (expected, _) = frames(&capture, EngineKind::Default, Thresholds::default());
    let (got, warnings) = frames(&capture, EngineKind::Tshark, Thresholds::default());
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(
        differences(&expected, &got, EngineKind::Tshark),
        Vec::<String>::new()
    );
    // tshark calls the bytes it does not dissect `data`.
    assert_eq!(chain(&got[0]), ["Ethernet", "IPv4", "TCP", "data"]);
    assert_eq!(chain(&got[2]), ["Ethernet", "ARP"]);
    assert_eq!(uint(&got[0], 1, "ip.ttl"), Some(64));
    assert_eq!(uint(&got[0], 2, "tcp.srcport"), Some(40000));
    assert_eq!(uint(&got[1], 1, "vlan.id"), Some(100));
    assert!(
        got.iter().all(|f| f.notes.is_empty()),
        "the envelopes agree"
    );
}

#[test]
fn thresholds_cut_what_the_backends_decode() {
    let dir = tempfile::tempdir().unwrap();
    let capture = built(dir.path());
    let internet = Thresholds {
        layer: Some(Level::Internet),
        protocol: None,
        ..Default::default()
    };
    let ipv4 = Thresholds {
        layer: None,
        protocol: Some(ProtocolId::Ipv4),
        ..Default::default()
    };
    for t in [internet, ipv4] {
        let (expected, _) = frames(&capture, EngineKind::Default, t);
        assert_eq!(chain(&expected[0]), ["Ethernet", "IPv4", "Raw"]);
        for engine in engines() {
            let (got, warnings) = frames(&capture, engine, t);
            assert!(warnings.is_empty(), "{engine}: {warnings:?}");
            let want: &[&str] = if engine == EngineKind::Tshark {
                // tshark gives no offsets: what is above is dropped, not made Raw.
                &["Ethernet", "IPv4"]
            } else {
                &["Ethernet", "IPv4", "Raw"]
            };
            assert_eq!(chain(&got[0]), want, "{engine}");
            assert_eq!(
                chain(&got[1])[..3],
                ["Ethernet", "VLAN", "IPv4"],
                "{engine}"
            );
            if engine != EngineKind::Tshark {
                // The Raw layer holds the IPv4 payload: 20 + 5 bytes at 34.
                assert_eq!(
                    (got[0].layers[2].offset, got[0].layers[2].header_len),
                    (34, 25)
                );
            }
        }
    }
    // A protocol the backend never decodes: said once, and ignored.
    let http = Thresholds {
        layer: None,
        protocol: Some(ProtocolId::Http),
        ..Default::default()
    };
    for engine in [EngineKind::Etherparse, EngineKind::Pnet] {
        let (got, warnings) = frames(&capture, engine, http);
        assert_eq!(warnings.len(), 1, "{engine}: {warnings:?}");
        assert!(warnings[0].contains("does not decode HTTP"), "{warnings:?}");
        assert_eq!(chain(&got[0]), ["Ethernet", "IPv4", "TCP", "Raw"]);
    }
}

#[test]
fn cut_and_random_frames_do_not_panic_any_backend() {
    let dir = tempfile::tempdir().unwrap();
    let mut vlan = Vec::new();
    let tag = VlanTag {
        tpid: 0x8100,
        pcp: 0,
        dei: true,
        vid: 7,
    };
    push_ethernet(&mut vlan, MAC_A, MAC_B, &[tag, tag], 0x0800);
    vlan.extend_from_slice(&ipv4_tcp(
        [1, 2, 3, 4],
        [5, 6, 7, 8],
        80,
        81,
        b"GET / HTTP/1.1\r\n\r\n",
    ));
    let mut records = Vec::new();
    // Every cut of the frame, with the wire length of the whole.
    for cut in 0..=vlan.len() {
        let mut r = PcapRecord::new(1, cut as u32, vlan[..cut].to_vec());
        r.orig_len = vlan.len() as u32;
        records.push(r);
    }
    // And lying headers: IHL, total length, data offset at their extremes.
    for (at, byte) in [
        (22, 0x40),
        (22, 0x4f),
        (24, 0xff),
        (25, 0xff),
        (24, 0),
        (58, 0xf0),
        (58, 0x10),
    ] {
        let mut f = vlan.clone();
        f[at] = byte;
        records.push(PcapRecord::new(2, at as u32, f));
    }
    let mut rng = common::Rng::new(9);
    for i in 0..200 {
        let len = rng.below(120) as usize;
        let mut f: Vec<u8> = (0..len).map(|_| rng.below(256) as u8).collect();
        // Half of them look like IPv4 or IPv6 over Ethernet, to go past the first layer.
        if i % 2 == 0 && f.len() > 14 {
            f[12..14].copy_from_slice(if i % 4 == 0 {
                &[0x08, 0]
            } else {
                &[0x86, 0xdd]
            });
            f[14] = if i % 4 == 0 { 0x45 } else { 0x60 };
        }
        records.push(PcapRecord::new(3, i, f));
    }
    let capture = common::write_file(dir.path(), "cut.pcap", &pcap_file(1, &records));
    let (expected, _) = frames(&capture, EngineKind::Default, Thresholds::default());
    for engine in engines() {
        let (got, _) = frames(&capture, engine, Thresholds::default());
        // Envelopes agree; chains may stop earlier on damaged frames, but never name
        // one of our protocols where the default engine does not.
        let diff = differences(&expected, &got, engine);
        assert_eq!(diff, Vec::<String>::new(), "{engine}");
    }
}

#[test]
fn reassembly_is_refused_and_a_missing_tshark_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let capture = built(dir.path());
    for engine in ["etherparse", "pnet", "tshark"] {
        let out = common::run([
            capture.to_str().unwrap(),
            "--nofile",
            "--engine",
            engine,
            "--tcp",
        ]);
        assert!(!out.status.success());
        let err = common::stderr(&out);
        assert!(err.contains("does no reassembly (--tcp)"), "{err}");
    }
    let out = common::pcapkit()
        .args([capture.to_str().unwrap(), "--nofile", "--engine", "tshark"])
        .env("PCAPKIT_TSHARK", dir.path().join("no-such-tshark"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = common::stderr(&out);
    assert!(
        err.contains("needs tshark") && err.contains("not found"),
        "{err}"
    );
    // tshark reads the file itself: standard input is refused.
    let bytes = std::fs::read(&capture).unwrap();
    let out = common::run_stdin(["-", "--nofile", "--engine", "tshark"], &bytes);
    assert!(
        common::stderr(&out).contains("give a file"),
        "{}",
        common::stderr(&out)
    );
}

/// The corpus, as the engine tests read it.
fn corpus() -> Vec<PathBuf> {
    common::corpus_captures(15)
}

#[test]
#[ignore = "needs the corpus (../shared/corpus/public or $PCAPKIT_CORPUS); .ci/run runs it"]
fn every_backend_agrees_with_the_default_envelopes_over_the_corpus() {
    let mut bad = Vec::new();
    let mut earlier = [0usize; 3];
    let mut total = 0;
    for capture in corpus() {
        // Captures we cannot open at all (a pcap version 1.4 file) are not compared.
        let opened = Extractor::builder().input(&capture).nofile(true).build();
        if opened.is_err() {
            continue;
        }
        let (expected, _) = frames(&capture, EngineKind::Default, Thresholds::default());
        total += expected.len();
        for (k, engine) in engines().into_iter().enumerate() {
            let (got, _) = frames(&capture, engine, Thresholds::default());
            for d in differences(&expected, &got, engine) {
                bad.push(format!("{}: {d}", capture.display()));
            }
            earlier[k] += expected
                .iter()
                .zip(&got)
                .filter(|(e, g)| chain(g) != chain(e))
                .count();
        }
    }
    eprintln!("{total} frames; chains that stop earlier or name other layers: {earlier:?}");
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
