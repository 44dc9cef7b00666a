//! Diagnostics: what the front end reports instead of failing.
//!
//! Every pass collects [`Diagnostic`]s and keeps going; the driver sorts them
//! by position and renders them. The first line of each rendering is
//! `file.weft:LINE:COL: message` so that editors and test runners can parse it;
//! ariadne's labelled snippet follows (coloured only when asked to).

use crate::span::{LineIndex, Span};
use std::fmt::Write as _;

#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub span: Span,
    pub message: String,
    /// Extra labelled spans ("previous declaration here").
    pub notes: Vec<(Span, String)>,
}

impl Diagnostic {
    pub fn error(span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            span,
            message: message.into(),
            notes: Vec::new(),
        }
    }

    pub fn with_note(mut self, span: Span, note: impl Into<String>) -> Diagnostic {
        self.notes.push((span, note.into()));
        self
    }
}

/// Diagnostics of one file, with what is needed to render them.
#[derive(Clone, Debug)]
pub struct FileDiagnostics {
    /// The path as the user gave it (printed in the first line).
    pub path: String,
    pub source: String,
    pub diagnostics: Vec<Diagnostic>,
}

impl FileDiagnostics {
    /// `path:LINE:COL: message` for each diagnostic, in order.
    pub fn headlines(&self) -> Vec<String> {
        let index = LineIndex::new(&self.source);
        self.diagnostics
            .iter()
            .map(|d| {
                let (line, col) = index.position(d.span.start);
                format!("{}:{}:{}: {}", self.path, line, col, d.message)
            })
            .collect()
    }

    /// Full rendering: each headline followed by ariadne's snippet.
    pub fn render(&self, color: bool) -> String {
        let mut out = String::new();
        let headlines = self.headlines();
        for (d, headline) in self.diagnostics.iter().zip(headlines) {
            let _ = writeln!(out, "{headline}");
            out.push_str(&self.snippet(d, color));
        }
        out
    }

    fn snippet(&self, d: &Diagnostic, color: bool) -> String {
        use ariadne::{Config, IndexType, Label, Report, ReportKind, Source};
        let len = self.source.len();
        // ariadne slices the source by these offsets: keep them inside it and
        // on character boundaries (start rounds down, end rounds up).
        let src = self.source.as_str();
        let clamp = |s: Span| {
            let mut start = (s.start as usize).min(len);
            while !src.is_char_boundary(start) {
                start -= 1;
            }
            let mut end = (s.end as usize).clamp(start, len);
            while !src.is_char_boundary(end) {
                end += 1;
            }
            start..end
        };
        let id = self.path.as_str();
        let mut report = Report::build(ReportKind::Error, (id, clamp(d.span)))
            .with_config(
                Config::default()
                    .with_color(color)
                    .with_index_type(IndexType::Byte),
            )
            .with_message(&d.message)
            .with_label(Label::new((id, clamp(d.span))).with_message("here"));
        for (span, note) in &d.notes {
            report = report.with_label(Label::new((id, clamp(*span))).with_message(note));
        }
        let mut buf = Vec::new();
        let cache = (id, Source::from(self.source.as_str()));
        if report.finish().write(cache, &mut buf).is_err() {
            return String::new();
        }
        String::from_utf8_lossy(&buf).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendering_survives_spans_inside_characters_and_past_the_end() {
        let file = FileDiagnostics {
            path: "t.weft".into(),
            source: "x := \"日本\"\n".into(),
            diagnostics: vec![
                Diagnostic::error(Span::new(7, 8), "inside a character"),
                Diagnostic::error(Span::new(500, 900), "past the end"),
            ],
        };
        let text = file.render(false);
        assert!(text.starts_with("t.weft:1:8: inside a character"));
        assert!(text.contains("past the end"));
    }
}
