//! What every module's `build.rs` does with its `proto/paychain/<module>/v1/*.proto`:
//! compile them with protox (pure Rust, no system `protoc`), generate the Rust types
//! with prost-build and their proto3 JSON serde impls with pbjson-build from the same
//! descriptors, and `impl TypeUrl` for every message. The SDK types the files import
//! map to `cosmos-sdk-proto`'s, `google.protobuf.Timestamp` to the framework's (same
//! bytes, RFC 3339 in JSON).

use std::path::PathBuf;

/// Imported packages and the Rust paths they map to.
const EXTERN_PATHS: &[(&str, &str)] = &[
    (".cosmos.base.v1beta1", "::cosmos_sdk_proto::cosmos::base::v1beta1"),
    (".cosmos.base.query.v1beta1", "::cosmos_sdk_proto::cosmos::base::query::v1beta1"),
    (".google.protobuf.Timestamp", "::paychain_framework::time::Timestamp"),
];

/// Generates `paychain.<module>.v1.rs`, `paychain.<module>.v1.serde.rs` and
/// `type_urls.rs` in `OUT_DIR` from `files` in `proto/paychain/<module>/v1/`.
pub fn compile_module(module: &str, files: &[&str]) -> Result<(), Box<dyn std::error::Error>> {
    // Read at run time, not baked in with env!(): cargo may reuse a compiled build script
    // for another checkout sharing the target directory, and must then read its files.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").ok_or("CARGO_MANIFEST_DIR is not set")?;
    let proto_root = PathBuf::from(manifest_dir).join("../../proto");
    let dir = proto_root.join(format!("paychain/{module}/v1"));
    println!("cargo:rerun-if-changed={}", dir.display());
    println!("cargo:rerun-if-changed={}", proto_root.join("cosmos").display());
    let files: Vec<PathBuf> = files.iter().map(|f| dir.join(f)).collect();
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    // Type URLs for our own files only.
    let own = protox::Compiler::new([&proto_root])?.include_imports(false).open_files(&files)?.file_descriptor_set();
    let mut type_urls = String::new();
    for file in &own.file {
        for msg in &file.message_type {
            let name = msg.name();
            type_urls.push_str(&format!(
                "impl ::paychain_framework::TypeUrl for {name} {{\n    const TYPE_URL: &'static str = \"/{}.{name}\";\n}}\n",
                file.package()
            ));
        }
    }
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?);
    std::fs::write(out_dir.join("type_urls.rs"), type_urls)?;
    // Both generators get the imports' descriptors: pbjson-build resolves imported types,
    // and prost-build looks into imported messages (e.g. a request whose one field is a
    // PageRequest) to decide whether a message can derive Copy. The imported packages are
    // extern, so no code is generated for them.
    let with_imports =
        protox::Compiler::new([&proto_root])?.include_imports(true).open_files(&files)?.file_descriptor_set();
    let descriptors = prost::Message::encode_to_vec(&with_imports);
    let mut prost = prost_build::Config::new();
    for (proto, rust) in EXTERN_PATHS {
        prost.extern_path(*proto, *rust);
    }
    prost.compile_fds(with_imports)?;
    let mut json = pbjson_build::Builder::new();
    json.register_descriptors(&descriptors)?;
    for (proto, rust) in EXTERN_PATHS {
        json.extern_path(*proto, *rust);
    }
    json.build(&[format!(".paychain.{module}.v1")])?;
    Ok(())
}
