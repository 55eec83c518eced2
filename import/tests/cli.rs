//! The `bookshelf-import` binary's own answers before any database is touched (the import
//! itself is tested through `run()` against DynamoDB Local in `tests/integration/import.rs`).

use std::process::Command;

fn importer() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bookshelf-import"));
    command.env_remove("TABLE_NAME").env_remove("DYNAMODB_ENDPOINT");
    command
}

#[test]
fn usage_mistakes_exit_2_naming_the_problem() {
    for (args, problem) in [
        (vec![], "no file given"),
        (vec!["--bogus", "f.jsonl"], "unknown option --bogus"),
        (vec!["--concurrency", "0", "f.jsonl"], "--concurrency"),
        (vec!["--source", "Not A Name", "f.jsonl"], "--source"),
        (vec!["a.jsonl", "b.jsonl"], "one file at a time"),
    ] {
        let output = importer().args(&args).output().expect("runs");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&output.stderr).contains(problem), "{args:?}");
    }
}

#[test]
fn a_run_without_its_table_exits_2_naming_the_variable() {
    let output = importer().arg("users.jsonl").output().expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("TABLE_NAME"));
}

#[test]
fn help_prints_the_usage() {
    let output = importer().arg("--help").output().expect("runs");
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("usage: bookshelf-import"));
}
