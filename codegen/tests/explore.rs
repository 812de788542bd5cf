use std::path::Path;
fn run(files: &[(&str, &str)]) -> Result<pcapkit_codegen::ir::Model, pcapkit_codegen::SpecError> {
    let dir = tempfile::tempdir().unwrap();
    for (p, t) in files {
        let path = dir.path().join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, t).unwrap();
    }
    pcapkit_codegen::load(dir.path())
}
const P: &str = "[protocol]\nid = \"p\"\nname = \"P\"\nlayer = \"link\"\n";
fn show(label: &str, files: &[(&str, &str)]) {
    match run(files) {
        Ok(_) => println!("{label}: OK"),
        Err(e) => println!("{label}: {e}   [{:?} | {:?}]", e.file, e.location),
    }
}
#[test]
fn explore() {
    let _ = Path::new("");
    show(
        "typo",
        &[(
            "p.toml",
            &format!("{P}[[field]]\nname = \"a\"\ntpye = \"u8\"\n"),
        )],
    );
    show(
        "abs",
        &[(
            "p.toml",
            &format!("{P}[[field]]\nname = \"a\"\ntype = \"u8\"\nassert = \"abs(a)\"\n"),
        )],
    );
    show("nested tlv", &[("p.toml", &format!("{P}[[field]]\nname = \"a\"\ntype = \"tlv:outer\"\n[[tlv]]\nid = \"inner\"\nkind = \"u8\"\nlength = \"u8\"\n[[tlv]]\nid = \"outer\"\nkind = \"u8\"\nlength = \"u8\"\n[[tlv.variant]]\nkind = 1\nname = \"v\"\nfields = [{{name = \"sub\", type = \"tlv:inner\"}}]\n"))]);
    show(
        "reg hyphen",
        &[(
            "registry/my-reg.toml",
            "[registry]\nid = \"my-reg\"\nwidth = 8\n[values]\n1 = \"A\"\n",
        )],
    );
    show(
        "table no key",
        &[("p.toml", &format!("{P}[payload]\ntable = \"t\"\n"))],
    );
    show(
        "payload typo",
        &[("p.toml", &format!("{P}[payload]\ntabel = \"t\"\n"))],
    );
    show("empty", &[("p.toml", "")]);
}
fn gen(label: &str, files: &[(&str, &str)]) -> Option<Vec<pcapkit_codegen::Output>> {
    match run(files) {
        Ok(m) => match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pcapkit_codegen::emit_all(&m)
        })) {
            Ok(o) => {
                println!("{label}: generated");
                Some(o)
            }
            Err(_) => {
                println!("{label}: PANIC in emit");
                None
            }
        },
        Err(e) => {
            println!("{label}: {e}");
            None
        }
    }
}
#[test]
fn explore_gen() {
    gen(
        "reg hyphen",
        &[(
            "registry/my-reg.toml",
            "[registry]\nid = \"my-reg\"\nwidth = 8\n[values]\n1 = \"A\"\n",
        )],
    );
    gen(
        "reg upper",
        &[(
            "registry/Up.toml",
            "[registry]\nid = \"Up\"\nwidth = 8\n[values]\n1 = \"A\"\n",
        )],
    );
    if let Some(o) = gen("peek if", &[("p.toml", &format!("{P}[[field]]\nname = \"a\"\ntype = \"u8\"\n[[field]]\nname = \"b\"\ntype = \"u32\"\nif = \"a == 1\"\npeek = true\n"))]) {
        let c = &o.iter().find(|o| o.name == "proto_p.rs").unwrap().code;
        println!("{}", c.lines().filter(|l| l.contains("len -")).collect::<Vec<_>>().join("\n"));
    }
    if let Some(o) = gen("method clash", &[("p.toml", &format!("{P}[[field]]\nname = \"a\"\ntype = \"u8\"\nbits = [{{name = \"check\", width = 1, type = \"bool\"}}, {{name = \"visit\", width = 7}}]\n"))]) {
        let c = &o.iter().find(|o| o.name == "proto_p.rs").unwrap().code;
        println!("{}", c.lines().filter(|l| l.contains("fn check") || l.contains("fn visit")).collect::<Vec<_>>().join("\n"));
    }
    if let Some(o) = gen("variant=family", &[("p.toml", &format!("{P}[[field]]\nname = \"o\"\ntype = \"tlv:opt\"\n[[tlv]]\nid = \"opt\"\nkind = \"u8\"\nlength = \"u8\"\n[[tlv.variant]]\nkind = 1\nname = \"opt\"\nfields = [{{name = \"x\", type = \"u8\"}}]\n"))]) {
        let c = &o.iter().find(|o| o.name == "tlv_opt.rs").unwrap().code;
        println!("{}", c.lines().filter(|l| l.contains("Opt") && (l.contains("pub use") || l.contains("pub enum") || l.contains("pub struct"))).collect::<Vec<_>>().join("\n"));
    }
    gen(
        "camel clash",
        &[
            (
                "a.toml",
                "[protocol]\nid = \"a_b\"\nname = \"A1\"\nlayer = \"link\"\n",
            ),
            (
                "b.toml",
                "[protocol]\nid = \"a__b\"\nname = \"A2\"\nlayer = \"link\"\n",
            ),
        ],
    );
    gen("kind range", &[("p.toml", &format!("{P}[[field]]\nname = \"o\"\ntype = \"tlv:opt\"\n[[tlv]]\nid = \"opt\"\nkind = \"u8\"\nlength = \"u8\"\nsingle = [300]\nend = 999\n[[tlv.variant]]\nkind = 256\nname = \"big\"\n"))]);
}
