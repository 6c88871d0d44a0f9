//! Compiles `proto/ikd/plugin/v1` with protox (pure Rust): no system `protoc`.

use std::path::PathBuf;

fn main() {
    // Read at run time: a build script compiled once may run for another
    // checkout that shares the target directory.
    let manifest_dir =
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = PathBuf::from(manifest_dir).join("../../proto");
    let file = root.join("ikd/plugin/v1/plugin.proto");
    println!("cargo:rerun-if-changed={}", file.display());
    let descriptors = match protox::compile([&file], [&root]) {
        Ok(set) => set,
        Err(err) => panic!("cannot compile {}: {err:?}", file.display()),
    };
    // `bytes` fields as `Bytes`: decoding slices the input instead of copying
    // through `BufMut` chunk by chunk, which matters for dense arrays.
    if let Err(err) = prost_build::Config::new()
        .bytes(["."])
        .compile_fds(descriptors)
    {
        panic!("cannot generate code for {}: {err}", file.display());
    }
}
