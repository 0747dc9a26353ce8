//! HTML → PDF with headless Chromium's own print (`chromium --headless --print-to-pdf`), for
//! the ranking bulletin. Chosen over a PDF library because the bulletin is already an HTML page
//! with print styles (`@page size:A4`): the browser that shows it is the one that prints it, with
//! its text shaping and font fallback for Chinese (a CJK font must be installed: Debian's
//! `fonts-wqy-microhei` or `fonts-noto-cjk`, see `scripts/deps.sh`), and the PDF is what a user
//! would get from the print dialog. A process per document, with a profile directory of its own
//! (two prints at once must not share one), and a deadline.
//!
//! The page is our own HTML with no script and nothing fetched, which is why `--no-sandbox`
//! (needed when the service runs as root, as in containers) is acceptable here.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one print may take.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// Names tried on the PATH when no Chromium is configured.
pub const CANDIDATES: [&str; 4] = [
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];

/// Why a PDF was not made.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    /// No Chromium to print with.
    #[error("PDF export needs headless Chromium, and {tried} was not found: install it (Debian: apt-get install chromium) or set [report] chromium = \"/path/to/chromium\"")]
    NoChromium { tried: String },
    #[error("cannot run {program}")]
    Spawn {
        program: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{program} did not print within {}s", DEADLINE.as_secs())]
    Timeout { program: PathBuf },
    #[error("{program} failed to print ({status}): {stderr}")]
    Failed {
        program: PathBuf,
        status: String,
        stderr: String,
    },
    #[error("print to PDF: {what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The Chromium to print with: `configured` (a path, or a name looked up on the PATH), else the
/// first of [`CANDIDATES`] on the PATH.
pub fn find_chromium(configured: Option<&Path>) -> Result<PathBuf, PrintError> {
    match configured {
        Some(p) if p.components().count() > 1 => {
            if p.is_file() {
                Ok(p.to_path_buf())
            } else {
                Err(PrintError::NoChromium {
                    tried: p.display().to_string(),
                })
            }
        }
        Some(name) => on_path(&name.to_string_lossy()).ok_or_else(|| PrintError::NoChromium {
            tried: format!("`{}` on the PATH", name.display()),
        }),
        None => CANDIDATES
            .iter()
            .find_map(|n| on_path(n))
            .ok_or_else(|| PrintError::NoChromium {
                tried: format!("any of {} on the PATH", CANDIDATES.join(", ")),
            }),
    }
}

fn io(what: &str) -> impl FnOnce(std::io::Error) -> PrintError + '_ {
    move |source| PrintError::Io {
        what: what.to_string(),
        source,
    }
}

/// Prints `html` (a self-contained page) to PDF bytes with the Chromium `chromium` (see
/// [`find_chromium`]). Page size and margins come from the page's `@page` rule; no header or
/// footer is added.
pub fn html_to_pdf(html: &str, chromium: &Path) -> Result<Vec<u8>, PrintError> {
    let dir = tempfile::Builder::new()
        .prefix("strawfire-print-")
        .tempdir()
        .map_err(io("make a temporary folder"))?;
    let page = dir.path().join("page.html");
    let pdf = dir.path().join("page.pdf");
    std::fs::write(&page, html).map_err(io("write the page"))?;
    let mut child = Command::new(chromium)
        .arg("--headless")
        .arg("--no-sandbox")
        .arg("--disable-gpu")
        .arg("--disable-dev-shm-usage")
        .arg("--no-first-run")
        .arg("--no-default-browser-check")
        .arg("--disable-extensions")
        .arg("--disable-background-networking")
        .arg("--disable-sync")
        .arg("--mute-audio")
        .arg("--no-pdf-header-footer")
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| PrintError::Spawn {
            program: chromium.to_path_buf(),
            source,
        })?;
    // Read stderr on a thread so a chatty browser cannot block on a full pipe.
    let mut err = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(e) = err.as_mut() {
            let _ = e.read_to_string(&mut s);
        }
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().map_err(io("wait for chromium"))? {
            break st;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            return Err(PrintError::Timeout {
                program: chromium.to_path_buf(),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = reader.join().unwrap_or_default();
    let bytes = std::fs::read(&pdf).ok().filter(|b| b.starts_with(b"%PDF"));
    match bytes {
        Some(b) if status.success() => Ok(b),
        _ => Err(PrintError::Failed {
            program: chromium.to_path_buf(),
            status: status.to_string(),
            stderr: stderr
                .lines()
                .filter(|l| !l.trim().is_empty())
                .take(5)
                .collect::<Vec<_>>()
                .join(" | "),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_chromium_is_named_with_what_to_do() {
        let e = find_chromium(Some(Path::new("/nonexistent/chromium"))).unwrap_err();
        let m = e.to_string();
        assert!(m.contains("/nonexistent/chromium"), "{m}");
        assert!(m.contains("apt-get install chromium") && m.contains("[report] chromium"));
        let e = find_chromium(Some(Path::new("no-such-browser-xyz"))).unwrap_err();
        assert!(
            e.to_string().contains("`no-such-browser-xyz` on the PATH"),
            "{e}"
        );
    }

    #[test]
    fn a_program_that_prints_nothing_is_a_failure_not_an_empty_pdf() {
        // `true` exits 0 without writing a PDF.
        let t = find_chromium(Some(Path::new("true"))).unwrap();
        let e = html_to_pdf("<p>x</p>", &t).unwrap_err();
        assert!(matches!(e, PrintError::Failed { .. }), "{e}");
    }
}
