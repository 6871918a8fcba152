//! Every YAML configuration under `samples/` loads with `tianlu validate`, so the examples
//! cannot go stale.

use std::path::{Path, PathBuf};
use std::process::Command;

fn conf_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("samples dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            conf_files(&path, out);
        } else if path.file_name().is_some_and(|n| n == "conf.yaml") {
            out.push(path);
        }
    }
}

#[test]
fn every_sample_validates() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples");
    let mut confs = Vec::new();
    conf_files(&root, &mut confs);
    assert!(!confs.is_empty(), "no conf.yaml under samples/");
    for conf in confs {
        let out = Command::new(env!("CARGO_BIN_EXE_tianlu"))
            .args(["validate", "-c"])
            .arg(&conf)
            .output()
            .expect("run tianlu validate");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{} does not validate:\n{}{}",
            conf.display(),
            stdout,
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("valid ("), "{stdout}");
    }
}
