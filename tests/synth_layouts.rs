//! `strawfire synth --layout l1b|sdr` end to end: the printed files are a product set that
//! `product::open` reads, with the planted fire where it was planted.
//!
//! A file of its own: the child process would inherit any HDF5 file another test thread has
//! open for writing (libhdf5 opens without close-on-exec), and with it that file's exclusive
//! lock, so a read of it in this process would fail while the child runs.

use std::path::PathBuf;

use strawfire::product;

#[test]
fn synth_writes_swath_granules_as_l1b_pairs_and_sdr_sets() {
    let dir = tempfile::tempdir().unwrap();
    for (layout, extra) in [("l1b", vec![]), ("sdr", vec!["--granules", "2", "--gimgo"])] {
        let out = dir.path().join(layout);
        let run = std::process::Command::new(env!("CARGO_BIN_EXE_strawfire"))
            .args(["synth", "--layout", layout, "-o", out.to_str().unwrap()])
            .args(["--rows", "64", "--fire", "20,3000,2000,900", "--no-clouds"])
            .args(&extra)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let files: Vec<PathBuf> = String::from_utf8(run.stdout)
            .unwrap()
            .lines()
            .map(PathBuf::from)
            .collect();
        assert_eq!(files.len(), if layout == "l1b" { 2 } else { 6 });
        let g = product::open(std::slice::from_ref(&files[0])).unwrap();
        assert_eq!(g.shape, (64, 6400));
        assert_eq!(g.files, files);
        // The planted fire is hot in I4 where it was planted.
        let bt4 = g.bands["I4"].view()[[20, 3000]];
        let around = g.bands["I4"].view()[[20, 3010]];
        assert!(bt4 > around + 5.0, "fire {bt4} K vs background {around} K");
        if layout == "sdr" {
            assert!(files[5]
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("GIMGO_"));
        }
    }
}
