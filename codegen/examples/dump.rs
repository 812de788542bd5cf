//! Generates the code for a specs folder into a folder, for reading it:
//! `cargo run -p pcapkit-codegen --example dump -- specs /tmp/generated`.
fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(specs), Some(out)) = (args.next(), args.next()) else {
        eprintln!("usage: dump SPECS_DIR OUT_DIR");
        std::process::exit(2);
    };
    match pcapkit_codegen::generate(specs.as_ref(), out.as_ref()) {
        Ok(files) => println!("{} spec files read, code in {out}", files.len()),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
