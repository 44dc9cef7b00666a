//! The program loader: an entry file and every file module it imports,
//! compiled in dependency order.
//!
//! `import "./x.weft"` is resolved relative to the importing file. A file is
//! loaded once however many times it is imported (by canonical path); an
//! import cycle is a diagnostic at the import that closes it. Any other path
//! names a native module: one of [`STD_MODULES`], or one an embedder gives
//! the `*_with_modules` loaders (the modules it adds to the VM's natives);
//! its members are checked at run time.

use crate::compile::{compile_module, CompiledModule};
use crate::diag::{Diagnostic, FileDiagnostics};
use crate::parser::parse_file;
use crate::resolve::{resolve_file, ModuleInterface};
use crate::span::Span;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// The standard modules Weft provides (Go's import paths).
pub const STD_MODULES: &[&str] = &[
    "fmt",
    "strings",
    "strconv",
    "math",
    "sort",
    "errors",
    "os",
    "bufio",
    "time",
    "sync",
    "runtime",
    "math/rand",
    "os/signal",
    "encoding/json",
    "net",
    "unicode",
    "unicode/utf8",
];

/// What an import of a module refers to.
#[derive(Clone, Debug, PartialEq)]
pub enum ImportTarget {
    Std(std::sync::Arc<str>),
    /// Index into [`Program::modules`].
    File(usize),
}

#[derive(Clone, Debug)]
pub struct LoadedModule {
    /// The path as shown to the user (as given, or joined from the importer's).
    pub display_path: String,
    pub canonical_path: PathBuf,
    pub compiled: CompiledModule,
    /// By import index, what each import refers to.
    pub imports: Vec<ImportTarget>,
}

/// A compiled program. Modules appear after the modules they import; the
/// entry module is last.
#[derive(Clone, Debug)]
pub struct Program {
    pub modules: Vec<LoadedModule>,
}

impl Program {
    pub fn entry(&self) -> &LoadedModule {
        self.modules.last().expect("a program has an entry module")
    }
}

/// Whether an import path names a file module.
pub fn is_file_import(path: &str) -> bool {
    path.starts_with("./") || path.starts_with("../") || path.starts_with('/')
}

struct Loader<'h> {
    /// Native module paths importable besides [`STD_MODULES`].
    host_modules: &'h [&'h str],
    modules: Vec<LoadedModule>,
    by_path: HashMap<PathBuf, usize>,
    in_progress: HashSet<PathBuf>,
    errors: Vec<FileDiagnostics>,
}

/// Loads and compiles the program whose entry file is `path` (as the user wrote it).
pub fn load_program(path: &str) -> Result<Program, Vec<FileDiagnostics>> {
    load_program_with_modules(path, &[])
}

/// As [`load_program`], and the program may also import the native modules
/// `host_modules` (an embedder's: the paths it registers with
/// `weft_vm::native::Natives::module`, `Natives::module_paths`).
pub fn load_program_with_modules(
    path: &str,
    host_modules: &[&str],
) -> Result<Program, Vec<FileDiagnostics>> {
    let source = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => {
            return Err(vec![FileDiagnostics {
                path: path.to_string(),
                source: String::new(),
                diagnostics: vec![Diagnostic::error(
                    Span::default(),
                    format!("cannot read {path}: {e}"),
                )],
            }])
        }
    };
    match decode_source(path, &source) {
        Ok(text) => compile_program_source_with_modules(path, &text, host_modules),
        Err(d) => Err(vec![d]),
    }
}

/// Source files must be UTF-8 (Go's rule); the first invalid byte is reported.
fn decode_source(display: &str, bytes: &[u8]) -> Result<String, FileDiagnostics> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_string()),
        Err(e) => {
            let at = e.valid_up_to();
            Err(FileDiagnostics {
                path: display.to_string(),
                source: String::from_utf8_lossy(bytes).into_owned(),
                diagnostics: vec![Diagnostic::error(
                    Span::new(at, at + 1),
                    "invalid UTF-8 encoding",
                )],
            })
        }
    }
}

/// Compiles a program whose entry file's text is given (imports are read from disk).
pub fn compile_program_source(path: &str, source: &str) -> Result<Program, Vec<FileDiagnostics>> {
    compile_program_source_with_modules(path, source, &[])
}

/// As [`compile_program_source`], with an embedder's native modules
/// importable too (see [`load_program_with_modules`]).
pub fn compile_program_source_with_modules(
    path: &str,
    source: &str,
    host_modules: &[&str],
) -> Result<Program, Vec<FileDiagnostics>> {
    let mut loader = Loader {
        host_modules,
        modules: Vec::new(),
        by_path: HashMap::new(),
        in_progress: HashSet::new(),
        errors: Vec::new(),
    };
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| PathBuf::from(path));
    loader.load(path, canonical, source.to_string(), "main");
    if loader.errors.is_empty() {
        Ok(Program {
            modules: loader.modules,
        })
    } else {
        Err(loader.errors)
    }
}

impl Loader<'_> {
    /// Loads one file and (first) its imports; returns its module index.
    fn load(
        &mut self,
        display: &str,
        canonical: PathBuf,
        source: String,
        module_name: &str,
    ) -> Option<usize> {
        // Allow a `#!` line: blank it out so offsets stay right.
        let source = match source.strip_prefix("#!") {
            Some(rest) => {
                let line_len = rest.find('\n').unwrap_or(rest.len()) + 2;
                format!("{}{}", " ".repeat(line_len), &source[line_len..])
            }
            None => source,
        };
        let (file, mut diags) = parse_file(&source);
        if !diags.is_empty() {
            self.errors.push(FileDiagnostics {
                path: display.to_string(),
                source,
                diagnostics: diags,
            });
            return None;
        }
        self.in_progress.insert(canonical.clone());
        let dir = Path::new(display)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let canon_dir = canonical
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let mut interfaces: HashMap<Rc<str>, ModuleInterface> = HashMap::new();
        let mut targets: HashMap<Rc<str>, ImportTarget> = HashMap::new();
        let mut failed_import = false;
        for stmt in &file.stmts {
            let crate::ast::StmtKind::Import(specs) = &stmt.kind else {
                continue;
            };
            for spec in specs {
                let p = &spec.path;
                if !is_file_import(p) {
                    if STD_MODULES.contains(&&**p) || self.host_modules.contains(&&**p) {
                        interfaces.insert(p.clone(), ModuleInterface::Std);
                        targets.insert(p.clone(), ImportTarget::Std(std::sync::Arc::from(&**p)));
                    } else {
                        diags.push(Diagnostic::error(
                            spec.span,
                            format!("package {p} is not in std"),
                        ));
                    }
                    continue;
                }
                let child_display = normalize(&dir.join(&**p));
                let child_canon = std::fs::canonicalize(canon_dir.join(&**p))
                    .unwrap_or_else(|_| canon_dir.join(&**p));
                if self.in_progress.contains(&child_canon) {
                    diags.push(Diagnostic::error(
                        spec.span,
                        format!("import cycle not allowed: {p}"),
                    ));
                    continue;
                }
                let index = match self.by_path.get(&child_canon) {
                    Some(&i) => Some(i),
                    None => match std::fs::read(&child_canon) {
                        Ok(bytes) => match decode_source(&child_display, &bytes) {
                            Ok(text) => {
                                let name = crate::resolve::import_binding_name(p);
                                self.load(&child_display, child_canon.clone(), text, &name)
                            }
                            Err(d) => {
                                self.errors.push(d);
                                None
                            }
                        },
                        Err(e) => {
                            diags.push(Diagnostic::error(
                                spec.span,
                                format!("cannot import {p}: {e}"),
                            ));
                            continue;
                        }
                    },
                };
                match index {
                    Some(i) => {
                        let exports = self.modules[i]
                            .compiled
                            .globals
                            .iter()
                            .filter(|g| g.exported)
                            .map(|g| g.name.clone())
                            .collect();
                        interfaces.insert(p.clone(), ModuleInterface::File { exports });
                        targets.insert(p.clone(), ImportTarget::File(i));
                    }
                    None => failed_import = true,
                }
            }
        }
        self.in_progress.remove(&canonical);
        if failed_import && diags.is_empty() {
            return None;
        }
        let (res, resolve_diags) = resolve_file(&file, &interfaces);
        diags.extend(resolve_diags);
        if !diags.is_empty() {
            diags.sort_by_key(|d| d.span.start);
            self.errors.push(FileDiagnostics {
                path: display.to_string(),
                source,
                diagnostics: diags,
            });
            return None;
        }
        let compiled = match compile_module(&file, &res, &source, module_name) {
            Ok(m) => m,
            Err(diags) => {
                self.errors.push(FileDiagnostics {
                    path: display.to_string(),
                    source,
                    diagnostics: diags,
                });
                return None;
            }
        };
        if let Err(e) = crate::verify::verify_module(&compiled) {
            // A compiler bug, reported rather than handed to the interpreter.
            let d = Diagnostic::error(Span::default(), format!("internal compiler error: {e}"));
            self.errors.push(FileDiagnostics {
                path: display.to_string(),
                source,
                diagnostics: vec![d],
            });
            return None;
        }
        let imports = compiled
            .imports
            .iter()
            .map(|p| {
                targets
                    .get(p)
                    .cloned()
                    .unwrap_or_else(|| ImportTarget::Std(std::sync::Arc::from(&**p)))
            })
            .collect();
        let index = self.modules.len();
        self.modules.push(LoadedModule {
            display_path: display.to_string(),
            canonical_path: canonical.clone(),
            compiled,
            imports,
        });
        self.by_path.insert(canonical, index);
        Some(index)
    }
}

/// `a/./b/../c.weft` -> `a/c.weft`, lexically (for display only).
fn normalize(p: &Path) -> String {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            other => parts.push(other.as_os_str()),
        }
    }
    let joined: PathBuf = parts.iter().collect();
    joined.to_string_lossy().into_owned()
}
