//! The `decouple run` command reports config errors with the file name (or
//! the `--set` argument), the field and the allowed range, exits with code 2
//! and writes nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/configs")
}

fn assert_mentions(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "{message:?} does not mention {part:?}");
    }
}

#[test]
fn the_cli_reports_config_errors_with_the_file_and_exit_code_2() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("config-errors");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.toml");
    std::fs::write(&file, "[network]\nwidth = 0\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_decouple"))
        .args(["run", "--config"])
        .arg(&file)
        .arg("--out")
        .arg(dir.join("out"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_mentions(&stderr, &["bad.toml", "network.width = 0", ">= 1"]);
    let good = examples().join("default.toml");
    let output = Command::new(env!("CARGO_BIN_EXE_decouple"))
        .args(["run", "--config"])
        .arg(&good)
        .args(["--set", "network.depth=2"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_mentions(&String::from_utf8_lossy(&output.stderr), &["--set network.depth=2", "no field `network.depth`", "`width`"]);
    assert!(!dir.join("out").exists(), "nothing is written for a bad config");
}
