//! Compiles `proto/ikd/v1` with protox (pure Rust, no system `protoc`) and
//! keeps the encoded descriptor set for server reflection.

use prost::Message;
use std::path::PathBuf;

fn main() {
    // Read at run time: a build script compiled once may run for another
    // checkout that shares the target directory.
    let manifest_dir =
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = PathBuf::from(manifest_dir).join("../../proto");
    let files = [
        "ikd/v1/assessment.proto",
        "ikd/v1/admin.proto",
        "ikd/v1/report.proto",
    ]
    .map(|f| root.join(f));
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    let descriptors = match protox::compile(&files, [&root]) {
        Ok(set) => set,
        Err(err) => panic!("cannot compile proto/ikd/v1: {err:?}"),
    };
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(
        out.join("ikd_v1_descriptor.bin"),
        descriptors.encode_to_vec(),
    )
    .expect("write descriptor set");
    if let Err(err) = tonic_prost_build::configure()
        .codec_path("crate::codec::IkdCodec")
        .compile_fds(descriptors)
    {
        panic!("cannot generate code for proto/ikd/v1: {err}");
    }
}
