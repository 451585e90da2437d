//! The `ningyu` binary: its subcommands and its start-up checks.

use std::process::Command;

use crate::helpers::TempDir;

#[test]
fn migrate_subcommand_creates_the_sqlite_database() {
    let dir = TempDir::new();

    let output = Command::new(env!("CARGO_BIN_EXE_ningyu"))
        .arg("migrate")
        .env("NINGYU_DATA_DIR", &dir.path)
        .env_remove("DATABASE_URL")
        .output()
        .expect("ningyu runs");

    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.path.join("ningyu.db").exists(), "database file created");
}

#[test]
fn invalid_configuration_names_the_variable() {
    let output = Command::new(env!("CARGO_BIN_EXE_ningyu"))
        .arg("migrate")
        .env("NINGYU_LISTEN", "not-an-address")
        .output()
        .expect("ningyu runs");

    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("NINGYU_LISTEN"), "stderr: {stderr}");
}
