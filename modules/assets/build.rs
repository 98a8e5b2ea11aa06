//! Compiles `proto/paychain/assets/v1/*.proto` with protox (pure Rust, no system
//! `protoc`) and generates the Rust types with prost-build. The SDK types the
//! files import map to `cosmos-sdk-proto`'s, `google.protobuf.Timestamp` to the
//! framework's (same bytes, RFC 3339 in JSON). pbjson-build generates their proto3
//! JSON serde impls from the same descriptors, and the type URLs come from them too.

use std::path::PathBuf;

const FILES: &[&str] = &["assets.proto", "tx.proto", "query.proto", "genesis.proto"];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Read at run time, not baked in with env!(): cargo may reuse this compiled script for
    // another checkout sharing the target directory, and must then read that checkout's files.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").ok_or("CARGO_MANIFEST_DIR is not set")?;
    let proto_root = PathBuf::from(manifest_dir).join("../../proto");
    let dir = proto_root.join("paychain/assets/v1");
    println!("cargo:rerun-if-changed={}", dir.display());
    println!("cargo:rerun-if-changed={}", proto_root.join("cosmos").display());
    let files: Vec<PathBuf> = FILES.iter().map(|f| dir.join(f)).collect();
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    // Only our own files go to the generator; their imports are resolved by protox and
    // mapped to existing crates below.
    let fds = protox::Compiler::new([&proto_root])?.include_imports(false).open_files(&files)?.file_descriptor_set();
    // Our own files: type URLs are generated for these only.
    // Every message's type URL, from the descriptors: `impl TypeUrl for X`.
    let mut type_urls = String::new();
    for file in &fds.file {
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
    // pbjson-build resolves the imported types too, so it gets the imports' descriptors.
    let with_imports =
        protox::Compiler::new([&proto_root])?.include_imports(true).open_files(&files)?.file_descriptor_set();
    let descriptors = prost::Message::encode_to_vec(&with_imports);
    prost_build::Config::new()
        .extern_path(".cosmos.base.v1beta1", "::cosmos_sdk_proto::cosmos::base::v1beta1")
        .extern_path(".cosmos.base.query.v1beta1", "::cosmos_sdk_proto::cosmos::base::query::v1beta1")
        .extern_path(".google.protobuf.Timestamp", "::paychain_framework::time::Timestamp")
        // With the imports: prost-build looks into imported messages (PageRequest) to decide
        // whether a message can derive Copy; their packages are extern, so it generates no
        // code for them.
        .compile_fds(with_imports.clone())?;
    // Proto3 JSON (serde) for the same types: `paychain.assets.v1.serde.rs`.
    pbjson_build::Builder::new()
        .register_descriptors(&descriptors)?
        .extern_path(".cosmos.base.v1beta1", "::cosmos_sdk_proto::cosmos::base::v1beta1")
        .extern_path(".cosmos.base.query.v1beta1", "::cosmos_sdk_proto::cosmos::base::query::v1beta1")
        .extern_path(".google.protobuf.Timestamp", "::paychain_framework::time::Timestamp")
        .build(&[".paychain.assets.v1"])?;
    Ok(())
}
