//! The `paychain-risk-service` binary as an operator runs it: flags in, JSON decisions out over HTTP.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary on a port the kernel picks; returns it with its screening URL.
fn start(args: &[&str]) -> (Service, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_paychain-risk-service"))
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting paychain-risk-service");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    (Service(child), url.to_string())
}

fn screen(url: &str, from: &str, amount: &str) -> reqwest::blocking::Response {
    let request = json!({
        "tx_hash": "00",
        "signers": [from],
        "messages": [{"@type": "/cosmos.bank.v1beta1.MsgSend", "from_address": from, "to_address": "pay1to",
                      "amount": [{"denom": "upay", "amount": amount}]}]
    });
    reqwest::blocking::Client::new().post(url).json(&request).send().unwrap()
}

#[test]
fn the_binary_answers_decisions_by_its_rules_and_fails_on_request() {
    let (_svc, url) = start(&["--refuse-sender", "pay1bad", "--refuse-sender", "pay1worse", "--refuse-above", "500"]);
    let answer = |from: &str, amount: &str| -> Value { screen(&url, from, amount).json().unwrap() };
    assert_eq!(answer("pay1ok", "500")["decision"], "allow");
    let refused = answer("pay1worse", "1");
    assert_eq!(refused["decision"], "refuse", "{refused}");
    assert_eq!(refused["score"], 100);
    assert!(refused["reason"].as_str().unwrap().contains("pay1worse"), "{refused}");
    assert_eq!(answer("pay1ok", "501")["decision"], "refuse");

    let (_failing, url) = start(&["--fail"]);
    assert_eq!(screen(&url, "pay1ok", "1").status(), 500);
}
