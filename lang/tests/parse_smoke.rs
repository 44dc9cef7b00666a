#[test]
fn all_conformance_files_parse() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance");
    let mut failures = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.extend(
        std::fs::read_dir(dir.join("lib"))
            .unwrap()
            .map(|e| e.unwrap().path()),
    );
    for path in entries {
        if path.extension().is_none_or(|e| e != "weft") {
            continue;
        }
        let src = std::fs::read_to_string(&path).unwrap();
        let (_, diags) = weft_lang::parser::parse_file(&src);
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !diags.is_empty() {
            let idx = weft_lang::span::LineIndex::new(&src);
            let (l, c) = idx.position(diags[0].span.start);
            failures.push(format!("{name}:{l}:{c}: {}", diags[0].message));
        }
    }
    for f in &failures {
        println!("{f}");
    }
}
