//! pcapkit's code generator: reads the TOML protocol specs under `specs/`, checks them, and
//! writes deku-derived dissectors, dispatch tables and property tests into `OUT_DIR`.
//!
//! The runtime's build script calls [`generate`]; a spec that breaks a rule stops the
//! build with a [`SpecError`] naming the file, the place in it and the reason.
//!
//! ```no_run
//! let out = std::path::Path::new("target/generated");
//! match pcapkit_codegen::generate("specs".as_ref(), out) {
//!     Ok(read) => println!("{} spec files", read.len()),
//!     Err(e) => eprintln!("{e}"),
//! }
//! ```

pub mod check;
mod emit;
pub mod expr;
pub mod ir;
pub mod model;

use std::path::{Path, PathBuf};

pub use check::{load, SpecError};

/// Generates every file from the specs in `specs` into `out_dir`; returns the spec files
/// read, for `cargo:rerun-if-changed`. Files whose contents did not change are left
/// untouched, so their timestamps do not trigger rebuilds; `.rs` files in `out_dir` that
/// this run did not generate (a removed spec's) are deleted, so that nothing stale is
/// ever compiled.
pub fn generate(specs: &Path, out_dir: &Path) -> Result<Vec<PathBuf>, SpecError> {
    let model = load(specs)?;
    std::fs::create_dir_all(out_dir).map_err(|e| io_error(out_dir, e))?;
    let outputs = emit_all(&model);
    for output in &outputs {
        let path = out_dir.join(&output.name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(output.code.as_str()) {
            std::fs::write(&path, &output.code).map_err(|e| io_error(&path, e))?;
        }
    }
    let entries = std::fs::read_dir(out_dir).map_err(|e| io_error(out_dir, e))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let generated = outputs.iter().any(|o| name == o.name.as_str());
        if path.extension().is_some_and(|e| e == "rs") && !generated {
            std::fs::remove_file(&path).map_err(|e| io_error(&path, e))?;
        }
    }
    Ok(model.files)
}

/// The generated files for a checked model, as (file name, code) pairs.
pub fn emit_all(model: &ir::Model) -> Vec<emit::Output> {
    emit::emit(model)
}

pub use emit::Output;

fn io_error(path: &Path, e: std::io::Error) -> SpecError {
    SpecError {
        file: path.to_owned(),
        location: String::new(),
        reason: format!("cannot write: {e}"),
    }
}
