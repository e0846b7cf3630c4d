//! The conformance report: a table on stdout, JSON and Markdown on disk.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use netgear::json::{Map, Value};

use super::runner::CellResult;

fn fps_text(r: &CellResult) -> String {
    r.fps.map_or_else(|| "-".to_owned(), |f| format!("{f:.1}"))
}

fn status(r: &CellResult) -> &'static str {
    if r.passed() {
        "pass"
    } else {
        "FAIL"
    }
}

/// The stdout table.
pub fn table(results: &[CellResult]) -> String {
    let width = results.iter().map(|r| r.id.len()).max().unwrap_or(4).max(4);
    let mut out = format!("{:width$}  {:6}  {:>8}  notes\n", "cell", "result", "fps");
    for r in results {
        let notes: Vec<&str> = r
            .failures
            .iter()
            .chain(&r.notes)
            .map(String::as_str)
            .collect();
        let _ = writeln!(
            out,
            "{:width$}  {:6}  {:>8}  {}",
            r.id,
            status(r),
            fps_text(r),
            notes.join("; ")
        );
    }
    let passed = results.iter().filter(|r| r.passed()).count();
    let _ = writeln!(
        out,
        "conformance: {passed} passed, {} failed",
        results.len() - passed
    );
    out
}

/// Writes `report.json` and `report.md` under `out`.
pub fn write(out: &Path, results: &[CellResult]) -> std::io::Result<()> {
    fs::create_dir_all(out)?;
    let cells: Vec<Value> = results
        .iter()
        .map(|r| {
            let mut m = Map::new();
            m.insert("id", r.id.as_str());
            m.insert("result", status(r));
            m.insert("fps", r.fps.map(Value::from).unwrap_or(Value::Null));
            m.insert("seconds", r.seconds);
            m.insert(
                "failures",
                r.failures
                    .iter()
                    .map(|s| Value::from(s.as_str()))
                    .collect::<Vec<_>>(),
            );
            m.insert(
                "notes",
                r.notes
                    .iter()
                    .map(|s| Value::from(s.as_str()))
                    .collect::<Vec<_>>(),
            );
            Value::Object(m)
        })
        .collect();
    let passed = results.iter().filter(|r| r.passed()).count();
    let mut top = Map::new();
    top.insert("reference", "vidgear 0.3.6");
    top.insert("passed", passed);
    top.insert("failed", results.len() - passed);
    top.insert("cells", cells);
    fs::write(
        out.join("report.json"),
        Value::Object(top).to_python_json() + "\n",
    )?;

    let mut md = String::from("# NetGear conformance report\n\nReference: vidgear 0.3.6 (PyPI). ");
    let _ = writeln!(md, "{passed} of {} cells passed.\n", results.len());
    md.push_str("| cell | result | fps | notes |\n|---|---|---:|---|\n");
    for r in results {
        let notes: Vec<String> = r
            .failures
            .iter()
            .chain(&r.notes)
            .map(|n| n.replace('|', "\\|"))
            .collect();
        let _ = writeln!(
            md,
            "| `{}` | {} | {} | {} |",
            r.id,
            status(r),
            fps_text(r),
            notes.join("; ")
        );
    }
    fs::write(out.join("report.md"), md)
}
