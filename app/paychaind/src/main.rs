//! The `paychaind` binary: everything lives in the library's `cli` module so
//! tests and tools can reuse it.

/// mimalloc: a payments block allocates and frees small buffers per read, write and event,
/// and glibc's allocator was ~15% of the in-order execution (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    paychaind::cli::main()
}
