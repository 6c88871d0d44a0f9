//! Compiles `proto/ikd/plugin/v1` with protox (pure Rust): no system `protoc`.

use std::path::PathBuf;

fn main() {
    // Read at run time: a build script compiled once may run for another
    // checkout that shares the target directory.
    let manifest_dir =
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = PathBuf::from(manifest_dir).join("../../proto");
    let files = ["plugin.proto", "process.proto"].map(|f| root.join("ikd/plugin/v1").join(f));
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    let descriptors = match protox::compile(&files, [&root]) {
        Ok(set) => set,
        Err(err) => panic!("cannot compile {}: {err:?}", root.display()),
    };
    // The encoded set, for plugins in other languages (the Python helper loads it).
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(
        out_dir.join("ikd_plugin_v1.binpb"),
        prost::Message::encode_to_vec(&descriptors),
    )
    .expect("cannot write the descriptor set");
    // `bytes` fields as `Bytes`: decoding slices the input instead of copying
    // through `BufMut` chunk by chunk, which matters for dense arrays.
    if let Err(err) = prost_build::Config::new()
        .bytes(["."])
        .compile_fds(descriptors)
    {
        panic!("cannot generate code for {}: {err}", root.display());
    }
}
