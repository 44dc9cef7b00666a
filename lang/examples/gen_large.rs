//! Prints a generated Weft program of about N lines (default 10,000):
//! `cargo run --release -p weft-lang --example gen_large -- 10000 > big.weft`
//! then `time weft check big.weft` measures start-up compile time.

fn main() {
    let lines = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    print!("{}", weft_lang::gen::large_program(lines));
}
