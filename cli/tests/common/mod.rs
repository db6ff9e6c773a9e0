//! What the CLI's integration tests share besides `zkmargin_testkit`: the binaries, run with
//! the test binary's home (`zkmargin_testkit::home`) and no failpoint armed.
#![allow(dead_code)]

use std::process::Command;

use assert_cmd::cargo::CommandCargoExt;

/// The `zkmargin` binary with `$ZKMARGIN_HOME = zkmargin_testkit::home()`.
pub fn zkmargin() -> Command {
    let mut c = Command::cargo_bin("zkmargin").unwrap();
    c.env("ZKMARGIN_HOME", zkmargin_testkit::home())
        .env_remove("ZKMARGIN_FAILPOINT");
    c
}

/// Runs `c`, which must succeed; its stdout.
pub fn stdout_of(c: &mut Command) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
