//! The `paychaind` binary: everything lives in the library's `cli` module so
//! tests and tools can reuse it.

fn main() -> std::process::ExitCode {
    paychaind::cli::main()
}
