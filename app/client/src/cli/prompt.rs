//! Reading secrets and confirmations from the user.

use std::io::{BufRead as _, Read as _, Write as _};
use std::path::Path;

use anyhow::{anyhow, bail, Context as _};
use zeroize::Zeroizing;

/// Environment variable holding the file keyring's passphrase (for scripts).
pub const PASSPHRASE_ENV: &str = "PAYCHAIN_KEYRING_PASSPHRASE";

pub fn stdin_is_tty() -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(libc::STDIN_FILENO) == 1 }
}

/// Reads one line from the terminal with echo off.
fn read_hidden_line(prompt: &str) -> anyhow::Result<Zeroizing<String>> {
    eprint!("{prompt}");
    std::io::stderr().flush().ok();
    let fd = libc::STDIN_FILENO;
    // SAFETY: termios is plain data; tcgetattr fills it for a terminal fd.
    let mut term: libc::termios = unsafe { std::mem::zeroed() };
    let have_term = unsafe { libc::tcgetattr(fd, &mut term) } == 0;
    if have_term {
        let mut silent = term;
        silent.c_lflag &= !libc::ECHO;
        silent.c_lflag |= libc::ECHONL;
        // SAFETY: valid fd and termios struct.
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &silent) };
    }
    let mut line = Zeroizing::new(String::new());
    let read = std::io::stdin().lock().read_line(&mut line);
    if have_term {
        // SAFETY: restores the settings read above.
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &term) };
    }
    read.context("reading from the terminal")?;
    let trimmed = Zeroizing::new(line.trim_end_matches(['\n', '\r']).to_string());
    Ok(trimmed)
}

/// The file keyring passphrase: `--passphrase-file`, else the environment,
/// else a terminal prompt (twice when `confirm`, for a new key).
pub fn passphrase(file: Option<&Path>, confirm: bool) -> anyhow::Result<Zeroizing<String>> {
    if let Some(path) = file {
        let text = Zeroizing::new(
            std::fs::read_to_string(path).with_context(|| format!("reading passphrase file {}", path.display()))?,
        );
        let first = Zeroizing::new(text.lines().next().unwrap_or("").to_string());
        if first.is_empty() {
            bail!("passphrase file {} is empty", path.display());
        }
        return Ok(first);
    }
    if let Ok(p) = std::env::var(PASSPHRASE_ENV) {
        if p.is_empty() {
            bail!("{PASSPHRASE_ENV} is set but empty");
        }
        return Ok(Zeroizing::new(p));
    }
    if !stdin_is_tty() {
        bail!(
            "the file keyring needs a passphrase: pass --passphrase-file FILE or set {PASSPHRASE_ENV} \
             (or use --keyring-backend test for throwaway keys)"
        );
    }
    let p = read_hidden_line("Enter keyring passphrase: ")?;
    if confirm {
        let again = read_hidden_line("Re-enter keyring passphrase: ")?;
        if *again != *p {
            bail!("passphrases do not match");
        }
    }
    Ok(p)
}

/// Asks a yes/no question on the terminal (default no).
pub fn confirm(question: &str) -> anyhow::Result<bool> {
    eprint!("{question} [y/N]: ");
    std::io::stderr().flush().ok();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("reading the answer")?;
    Ok(matches!(line.trim().to_lowercase().as_str(), "y" | "yes"))
}

/// Reads a mnemonic: prompted on a terminal, else all of stdin.
pub fn read_mnemonic() -> anyhow::Result<Zeroizing<String>> {
    if stdin_is_tty() {
        return read_hidden_line("Enter your BIP-39 mnemonic: ");
    }
    let mut s = Zeroizing::new(String::new());
    std::io::stdin().read_to_string(&mut s).context("reading the mnemonic from stdin")?;
    if s.trim().is_empty() {
        return Err(anyhow!("no mnemonic on stdin"));
    }
    Ok(s)
}
