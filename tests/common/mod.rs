//! Helpers shared by the binary's end-to-end tests.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Instant;

/// Runs `kube-compactor` with `args` from the repository root.
pub fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kube-compactor"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("binary runs")
}

/// The run's standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The run's standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Renders `url` in headless Chromium (a fresh profile in `dir`), with `extra` arguments;
/// returns standard output and the wall time. (Not every test file renders HTML.)
#[allow(dead_code)]
pub fn chromium(browser: &str, dir: &Path, extra: &[String], url: &str) -> (String, f64) {
    let profile = dir.join(format!(
        "profile-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    let start = Instant::now();
    let o = Command::new("timeout")
        .arg("120")
        .arg(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,900",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("chromium runs");
    let secs = start.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&profile);
    assert!(o.status.success(), "chromium failed: {}", stderr(&o));
    (stdout(&o), secs)
}

/// Headless Chromium: `$KUBE_COMPACTOR_CHROMIUM` (empty: none), else the first of
/// /usr/bin/chromium, chromium, chromium-browser, google-chrome that answers `--version`.
#[allow(dead_code)]
pub fn find_browser() -> Option<String> {
    let candidates: Vec<String> = match std::env::var("KUBE_COMPACTOR_CHROMIUM") {
        Ok(b) if b.is_empty() => Vec::new(),
        Ok(b) => vec![b],
        Err(_) => [
            "/usr/bin/chromium",
            "chromium",
            "chromium-browser",
            "google-chrome",
        ]
        .map(str::to_owned)
        .to_vec(),
    };
    candidates.into_iter().find(|b| {
        Command::new(b)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}
