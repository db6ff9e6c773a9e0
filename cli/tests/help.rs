//! The command lines' help reads like a CLI's: `--help` lists each command on one short line,
//! details and exit codes live under `CMD --help`, and no text cites a document section.

use assert_cmd::Command;

fn help(bin: &str, args: &[&str]) -> String {
    let out = Command::cargo_bin(bin)
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{bin} {args:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// The command names and one-line summaries of a `--help` listing.
fn commands(text: &str) -> Vec<(String, String)> {
    text.lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(|l| {
            let l = l.trim();
            let (name, about) = l.split_once(' ').unwrap_or((l, ""));
            (name.to_string(), about.trim().to_string())
        })
        .collect()
}

#[test]
fn every_command_is_one_short_line_and_its_details_are_under_its_own_help() {
    for bin in ["zkmargin", "zkmargin-verify"] {
        let listed = commands(&help(bin, &["--help"]));
        assert!(listed.len() >= 3, "{bin}: {listed:?}");
        for (name, about) in listed.iter().filter(|(n, _)| n != "help") {
            assert!(
                !about.is_empty() && about.len() <= 80 && !about.contains("Exit"),
                "{bin} {name}: {about:?}"
            );
            let own = help(bin, &[name, "--help"]);
            assert!(!own.contains("SPEC"), "{bin} {name} cites the spec");
            if name != "fixtures" && name != "run" && name != "keys" {
                assert!(own.contains("Exit codes:"), "{bin} {name}: no exit codes");
            }
        }
    }
}

#[test]
fn proving_commands_take_the_ceremony_switch_and_only_setup_takes_a_ptau_file() {
    for command in ["prove", "plan", "epoch"] {
        let text = help("zkmargin", &[command, "--help"]);
        assert!(text.contains("--ceremony"), "{command}");
        let ptau_option = text.lines().any(|l| l.trim_start().starts_with("--ptau"));
        assert!(!ptau_option, "{command} has a --ptau option");
    }
    assert!(help("zkmargin", &["setup", "--help"]).contains("--ptau <FILE>"));
    let out = Command::cargo_bin("zkmargin")
        .unwrap()
        .args(["prove", "snap", "--out", "b", "--ptau"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "--ptau is not a proving switch");
}
