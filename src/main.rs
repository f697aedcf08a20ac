//! The `driftlint` binary: a thin shell over the library's `cli::run`.

use std::process::ExitCode;

// A check allocates hundreds of thousands of small, short-lived strings and vectors (syntax
// trees, lowered operations, YAML nodes) from several threads at once. With glibc's allocator
// that cost about a fifth of the instructions and more in lock contention between the threads
// (5,000-revision tree with expectations: 460 ms of CPU with glibc, 330 ms with mimalloc). The
// `no_thp` feature keeps mimalloc from asking for transparent huge pages, which would round its
// few arenas up to 2 MiB pages and add about 40 MB of resident memory to the same run.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    driftlint::cli::run()
}
