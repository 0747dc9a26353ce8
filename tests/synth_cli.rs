//! `strawfire synth` end to end: the samples regenerate byte-identically from the command lines
//! in `samples/README.md`, and bad flags fail with one clear line and no file left behind.

mod common;

use std::path::Path;
use std::process::Command;

/// The `strawfire synth ...` command lines of `samples/README.md`, as argument lists.
fn sample_commands() -> Vec<Vec<String>> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/README.md"))
            .unwrap();
    readme
        .split('`')
        .filter(|s| s.starts_with("strawfire synth "))
        .map(|s| s.split_whitespace().skip(1).map(String::from).collect())
        .collect()
}

#[test]
fn samples_regenerate_byte_identically_from_their_readme_lines() {
    let commands = sample_commands();
    assert_eq!(commands.len(), 2, "{commands:?}");
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for mut args in commands {
        let o = args.iter().position(|a| a == "-o").unwrap() + 1;
        let sample = root.join(&args[o]);
        let out = dir.path().join(sample.file_name().unwrap());
        args[o] = out.to_str().unwrap().to_string();
        let status = Command::new(common::bin()).args(&args).output().unwrap();
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
        for (made, kept) in [
            (out.clone(), sample.clone()),
            (
                out.with_extension("truth.csv"),
                sample.with_extension("truth.csv"),
            ),
        ] {
            assert!(
                std::fs::read(&made).unwrap() == std::fs::read(&kept).unwrap(),
                "{} differs from {}: regenerate the samples with the README command",
                made.display(),
                kept.display()
            );
        }
    }
}

#[test]
fn bad_flags_fail_with_one_line_and_leave_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.tif");
    for (flags, expect) in [
        (vec!["--fire", "10,10,abc,1000"], "AREA_M2"),
        (vec!["--fire", "500,10,5,1000"], "outside"),
        (vec!["--center", "114.8"], "--center"),
        (vec!["--cloud-cover", "2"], "cloud_cover"),
    ] {
        let o = Command::new(common::bin())
            .args([
                "synth",
                "-o",
                out.to_str().unwrap(),
                "--rows",
                "50",
                "--cols",
                "50",
            ])
            .args(&flags)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{flags:?}");
        assert_eq!(err.trim().lines().count(), 1, "{flags:?}: {err}");
        assert!(err.contains(expect), "{flags:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "{flags:?} left a file"
        );
    }
}
