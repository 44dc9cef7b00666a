//! Golden-file tests: the disassembly of a few programs and the rendering of
//! a few diagnostics are pinned in `tests/golden/NAME.disasm` / `NAME.diag`.
//! Regenerate with `UPDATE_GOLDEN=1 cargo test -p weft-lang --test golden`
//! and review the diff.

use std::path::Path;

fn check_golden(name: &str, actual: &str, ext: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.{ext}"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing {}; run with UPDATE_GOLDEN=1", path.display()));
    if expected != actual {
        panic!(
            "{} differs from the golden file {}:\n--- actual ---\n{actual}",
            name,
            path.display()
        );
    }
}

fn compile_golden(name: &str) -> Result<weft_lang::Program, Vec<weft_lang::FileDiagnostics>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.weft"));
    let source = std::fs::read_to_string(&path).expect("golden input");
    weft_lang::compile_program_source(&format!("{name}.weft"), &source)
}

fn disasm_golden(name: &str) {
    let program = compile_golden(name)
        .unwrap_or_else(|e| panic!("{name} must compile: {:?}", e[0].headlines()));
    let listing = weft_lang::disasm::disassemble_program(&program);
    check_golden(name, &listing, "disasm");
}

fn diag_golden(name: &str) {
    let errors = compile_golden(name)
        .err()
        .unwrap_or_else(|| panic!("{name} must not compile"));
    let text: String = errors.iter().map(|f| f.render(false)).collect();
    check_golden(name, &text, "diag");
}

#[test]
fn disasm_of_arithmetic_and_control_flow() {
    disasm_golden("control");
}

#[test]
fn disasm_of_heap_stores_marks_every_barrier() {
    disasm_golden("stores");
}

#[test]
fn disasm_of_closures_and_loop_variables() {
    disasm_golden("closures");
}

#[test]
fn diagnostics_render_with_position_and_snippet() {
    diag_golden("errors");
}

#[test]
fn an_overflowing_constant_in_a_comparison_is_reported_once() {
    // Once per use: the compare-with-constant form folds its operands
    // quietly and leaves the report to the general form.
    diag_golden("overflow");
}

#[test]
fn every_listing_counts_its_barriers() {
    let program = compile_golden("stores").expect("compiles");
    let listing = weft_lang::disasm::disassemble_program(&program);
    let functions = listing.matches("\nfunction ").count();
    let counts = listing
        .lines()
        .filter(|l| l.starts_with("barriers: "))
        .count();
    assert_eq!(
        functions, counts,
        "each function ends with its barrier count"
    );
    let marked = listing.lines().filter(|l| l.contains("  wb  ")).count();
    let total: usize = listing
        .lines()
        .filter_map(|l| l.strip_prefix("barriers: "))
        .map(|n| n.parse::<usize>().unwrap())
        .sum();
    assert_eq!(marked, total, "every wb mark is counted");
    assert!(total > 0);
}
