//! The module's protobuf types, proto3 JSON and type URLs (see `paychain-proto-build`).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    paychain_proto_build::compile_module(
        "compliance",
        &["compliance.proto", "tx.proto", "query.proto", "genesis.proto"],
    )
}
