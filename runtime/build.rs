//! Runs pcapkit's code generator over `specs/` and writes the dissectors into OUT_DIR.
//! A spec that breaks a rule stops the build with the file, the place and the reason.

use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let specs = root.join("specs");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo"));
    println!("cargo:rerun-if-changed={}", specs.display());
    match pcapkit_codegen::generate(&specs, &out) {
        Ok(files) => {
            for f in files {
                println!("cargo:rerun-if-changed={}", f.display());
            }
        }
        Err(e) => {
            // One line cargo shows as the reason the build failed.
            eprintln!("error: bad protocol spec: {e}");
            std::process::exit(1);
        }
    }
}
