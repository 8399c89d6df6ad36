//! What `registrar users …` checks before it touches the store: usernames, the optional claims,
//! and the password read from stdin.

use std::io::BufRead;

use anyhow::{Context, bail};

#[cfg(test)]
mod tests;

/// The longest password accepted, in bytes: `registrar_core::authz::hash_password` refuses longer
/// ones too, since a megabyte password is a denial of service, not a credential.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// The longest username, in characters.
pub const MAX_USERNAME_CHARS: usize = 64;

/// A username is 1 to 64 characters, none of them a control character, and does not start or end
/// with whitespace: what is typed on the login page must be what was added.
pub fn check_username(username: &str) -> anyhow::Result<()> {
    let length = username.chars().count();
    if length == 0 || length > MAX_USERNAME_CHARS {
        bail!("a username is 1 to {MAX_USERNAME_CHARS} characters, not {length}");
    }
    if username.chars().any(char::is_control) {
        bail!("the username {username:?} contains a control character");
    }
    if username.starts_with(char::is_whitespace) || username.ends_with(char::is_whitespace) {
        bail!("the username {username:?} starts or ends with whitespace");
    }
    Ok(())
}

/// `--name`: not empty, no control characters.
pub fn check_name(name: &str) -> anyhow::Result<()> {
    if name.trim().is_empty() || name.chars().any(char::is_control) {
        bail!("--name: {name:?} must not be empty or contain control characters");
    }
    Ok(())
}

/// `--email`: one `@` between a non-empty local part and domain, no whitespace or control
/// characters. Only a sanity check: whether the address works is not knowable here.
pub fn check_email(email: &str) -> anyhow::Result<()> {
    let well_formed = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && !domain.is_empty() && !domain.contains('@')
    }) && !email
        .chars()
        .any(|character| character.is_whitespace() || character.is_control());
    if !well_formed {
        bail!("--email: {email:?} is not an email address");
    }
    Ok(())
}

/// The password on the first line of `input`, without its line ending (`\n` or `\r\n`; nothing
/// else is trimmed, so spaces are part of the password). Refused when empty or longer than
/// [`MAX_PASSWORD_BYTES`]; at most that much plus the line ending is read.
pub fn read_password(input: impl BufRead) -> anyhow::Result<String> {
    let limit = MAX_PASSWORD_BYTES + "\r\n".len() + 1;
    let mut line = Vec::new();
    input
        .take(limit as u64)
        .read_until(b'\n', &mut line)
        .context("cannot read the password from stdin")?;
    if line.ends_with(b"\n") {
        line.pop();
        if line.ends_with(b"\r") {
            line.pop();
        }
    }
    if line.is_empty() {
        bail!("the password is empty: write it as the first line of stdin");
    }
    if line.len() > MAX_PASSWORD_BYTES {
        bail!("the password is longer than {MAX_PASSWORD_BYTES} bytes");
    }
    String::from_utf8(line).context("the password is not UTF-8")
}
