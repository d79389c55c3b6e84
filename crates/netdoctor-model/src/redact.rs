//! Masking of secret-bearing values before anything is shown to a person.

/// A value safe to print: URL credentials, paths and queries masked, keeping scheme,
/// host and port so a reader can still see which peer is meant. Values that are not
/// URLs are masked whole.
pub fn redact_value(value: &str) -> String {
    match value.split_once("://") {
        Some((scheme, rest)) if !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c)) => {
            let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let (authority, tail) = rest.split_at(authority_end);
            let hosts = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            let creds = if authority.contains('@') { "***@" } else { "" };
            let tail = if tail.is_empty() { "" } else { "/***" };
            format!("{scheme}://{creds}{hosts}{tail}")
        }
        _ if value.is_empty() => String::new(),
        _ => "***".to_string(),
    }
}

/// The text with any `scheme://user:password@` credentials replaced by `***`.
pub fn redact_url_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        let authority_end = tail.find(['/', '?', '#', ' ', '"', '\'']).unwrap_or(tail.len());
        let (authority, after) = tail.split_at(authority_end);
        match authority.rsplit_once('@') {
            Some((_, host)) => {
                out.push_str("***@");
                out.push_str(host);
            }
            None => out.push_str(authority),
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_host_and_port_only() {
        assert_eq!(redact_value("postgres://app:s3cret@db:5432/app?sslmode=off"), "postgres://***@db:5432/***");
        assert_eq!(redact_value("http://api:8080"), "http://api:8080");
        assert_eq!(redact_value("hunter2"), "***");
        assert_eq!(redact_value(""), "");
    }

    #[test]
    fn userinfo_is_masked_in_free_text() {
        assert_eq!(redact_url_userinfo("connect to redis://:pw@cache:6379/0 now"), "connect to redis://***@cache:6379/0 now");
        assert_eq!(redact_url_userinfo("no urls here"), "no urls here");
    }
}
