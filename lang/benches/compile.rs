//! Lexing, parsing and compiling a large generated program (about 10,000
//! lines), and lexing alone, so a regression shows which pass it is in.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn bench_compile(c: &mut Criterion) {
    let src = weft_lang::gen::large_program(10_000);
    let mut group = c.benchmark_group("front_end_10k_lines");
    group.throughput(Throughput::Bytes(src.len() as u64));
    group.bench_function("lex", |b| {
        b.iter(|| weft_lang::lexer::lex(std::hint::black_box(&src)))
    });
    group.bench_function("parse", |b| {
        b.iter(|| weft_lang::parser::parse_file(std::hint::black_box(&src)))
    });
    group.bench_function("lex_parse_resolve_compile", |b| {
        b.iter(|| {
            weft_lang::compile_program_source("bench.weft", std::hint::black_box(&src))
                .expect("compiles")
        })
    });
    group.finish();
}

criterion_group!(benches, bench_compile);
criterion_main!(benches);
