#!/bin/bash
# Plants one generator bug at a time (the table in specs/README.md, "How a spec is
# tested"), runs the spec interpreter, the generated property tests and the examples, and
# says which caught it (a non-zero exit). The worktree must be clean: each bug is undone
# with git checkout.
cd "$(dirname "$0")/.."
if ! git diff --quiet -- codegen/src/emit; then echo "codegen/src/emit has changes; commit or stash them first" >&2; exit 1; fi
run() {
  name=$1
  if git diff --quiet -- codegen/src/emit; then echo "$name: mutation did not apply"; return; fi
  RUST_BACKTRACE=0 timeout 1200 cargo test -q --test integration spec_interpreter -- --test-threads=1 >${TMPDIR:-/tmp}/planted-$name.interp 2>&1; a=$?
  RUST_BACKTRACE=0 timeout 1200 cargo test -q --test integration spec_properties -- --skip example >${TMPDIR:-/tmp}/planted-$name.props 2>&1; b=$?
  RUST_BACKTRACE=0 timeout 1200 cargo test -q --test integration spec_properties -- example >${TMPDIR:-/tmp}/planted-$name.examples 2>&1; c=$?
  grep -q "could not compile" ${TMPDIR:-/tmp}/planted-$name.interp && a=compile-error
  echo "$name interpreter_exit=$a properties_exit=$b examples_exit=$c"
  git checkout -q -- codegen/src/emit
}
sed -i 's/let shift = proc_macro2::Literal::u32_unsuffixed(r.shift);/let shift = proc_macro2::Literal::u32_unsuffixed(r.shift + 1);/' codegen/src/emit/mod.rs; run shift
sed -i 's/let key = hex_lit(\*key);/let key = hex_lit(key.swap_bytes() >> 48);/' codegen/src/emit/dispatch.rs; run keyswap
perl -0pi -e 's/(pub fn payload_len\(&self, #captured: u64\) -> ::core::option::Option<u64> \{\n\s*#bind\n\s*)Some\(#code\)/$1Some(u64::saturating_sub(#code, 4))/' codegen/src/emit/protocol.rs; run payload4
sed -i 's/t.covers_all, t.align as u8);/!t.covers_all, t.align as u8);/' codegen/src/emit/tlv.rs; run covers
sed -i 's/t.covers_all, t.align as u8);/t.covers_all, t.align as u8 * 2);/' codegen/src/emit/tlv.rs; run align
sed -i 's/    if r.scale == 1 {/    if true {/' codegen/src/emit/mod.rs; run scale
perl -0pi -e 's/(FieldType::Ipv4 \| FieldType::Ipv6 if f.endian.is_none\(\) => \{\n\s*attrs.push\(quote!\(endian = )"big"/$1"little"/' codegen/src/emit/protocol.rs; run addr_le
