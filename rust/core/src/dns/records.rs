//! Record sets as PowerDNS takes them: canonical names with the trailing dot, and content in
//! presentation format, checked per type before anything is sent.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::names::{self, ValidationError};

/// The record types the platform writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    A,
    Aaaa,
    Cname,
    Txt,
    Caa,
    Ns,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::A => "A",
            Kind::Aaaa => "AAAA",
            Kind::Cname => "CNAME",
            Kind::Txt => "TXT",
            Kind::Caa => "CAA",
            Kind::Ns => "NS",
        }
    }

    pub fn parse(kind: &str) -> Result<Self, ValidationError> {
        Ok(match kind.to_ascii_uppercase().as_str() {
            "A" => Kind::A,
            "AAAA" => Kind::Aaaa,
            "CNAME" => Kind::Cname,
            "TXT" => Kind::Txt,
            "CAA" => Kind::Caa,
            "NS" => Kind::Ns,
            _ => {
                return Err(ValidationError::new(format!(
                    "record type must be A, AAAA, CNAME, TXT, CAA or NS, got {kind:?}"
                )))
            }
        })
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `name` in canonical form with its trailing dot (`a.example.com.`); `*.` is allowed, and
/// so are underscores (`_acme-challenge.…`), which record names may carry but host names not.
pub fn canonical(name: &str) -> Result<String, ValidationError> {
    if !name.contains('_') {
        return names::domain(name, true).map(|name| format!("{name}."));
    }
    if !name.is_ascii() {
        return Err(ValidationError::new(format!("a name with '_' must be ASCII: {name:?}")));
    }
    // Checked as a host name with each '_' standing for a letter, which keeps lengths.
    names::domain(&name.replace('_', "x"), true)?;
    Ok(format!("{}.", name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()))
}

/// All records of one name and type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordSet {
    pub name: String,
    pub kind: Kind,
    pub ttl: u32,
    pub contents: Vec<String>,
}

impl RecordSet {
    /// Checks and canonicalises: IP addresses parsed, host names canonical, TXT text quoted
    /// (and split into 255-byte strings), CAA as `flags tag "value"`.
    pub fn new(name: &str, kind: Kind, ttl: u32, contents: &[String]) -> Result<Self, ValidationError> {
        if !(1..=604_800).contains(&ttl) {
            return Err(ValidationError::new(format!("TTL must be 1 to 604800 seconds, got {ttl}")));
        }
        if contents.is_empty() {
            return Err(ValidationError::new(format!("{name} {kind}: no content")));
        }
        if kind == Kind::Cname && contents.len() > 1 {
            return Err(ValidationError::new(format!("{name}: a CNAME has exactly one target")));
        }
        let contents = contents.iter().map(|c| content(kind, c)).collect::<Result<Vec<_>, _>>()?;
        Ok(Self { name: canonical(name)?, kind, ttl, contents })
    }
}

fn content(kind: Kind, value: &str) -> Result<String, ValidationError> {
    let bad = |what: &str| ValidationError::new(format!("{kind} content must be {what}, got {value:?}"));
    match kind {
        Kind::A => value.parse::<Ipv4Addr>().map(|ip| ip.to_string()).map_err(|_| bad("an IPv4 address")),
        Kind::Aaaa => value.parse::<Ipv6Addr>().map(|ip| ip.to_string()).map_err(|_| bad("an IPv6 address")),
        Kind::Cname | Kind::Ns => names::domain(value, false).map(|n| format!("{n}.")),
        Kind::Txt => txt(value).ok_or_else(|| bad("printable text")),
        Kind::Caa => caa(value).ok_or_else(|| bad(r#"flags tag "value" (e.g. 0 issue "ca.example")"#)),
    }
}

/// Text as quoted strings of at most 255 bytes each (DNS's limit per string).
fn txt(text: &str) -> Option<String> {
    if text.is_empty() || text.chars().any(|c| c.is_control()) || !text.is_ascii() {
        return None;
    }
    let quoted: Vec<String> = text
        .as_bytes()
        .chunks(255)
        .map(|chunk| format!("\"{}\"", String::from_utf8_lossy(chunk).replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    Some(quoted.join(" "))
}

fn caa(value: &str) -> Option<String> {
    let mut parts = value.splitn(3, ' ');
    let flags: u8 = parts.next()?.parse().ok()?;
    let tag = parts.next()?.to_ascii_lowercase();
    let quoted = parts.next()?;
    let inner = quoted.strip_prefix('"')?.strip_suffix('"')?;
    let ok = matches!(tag.as_str(), "issue" | "issuewild" | "iodef")
        && !inner.contains('"')
        && inner.chars().all(|c| c.is_ascii() && !c.is_control());
    ok.then(|| format!("{flags} {tag} \"{inner}\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(name: &str, kind: Kind, contents: &[&str]) -> Result<RecordSet, ValidationError> {
        RecordSet::new(name, kind, 60, &contents.iter().map(|c| c.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn contents_are_checked_and_canonicalised() {
        let a = set("Acme.Example.COM", Kind::A, &["10.0.0.1"]).unwrap();
        assert_eq!((a.name.as_str(), a.contents[0].as_str()), ("acme.example.com.", "10.0.0.1"));
        assert_eq!(set("x.example.com", Kind::Aaaa, &["2001:DB8:0:0::1"]).unwrap().contents, ["2001:db8::1"]);
        assert_eq!(set("x.example.com", Kind::Cname, &["Edge.Example.com."]).unwrap().contents, ["edge.example.com."]);
        assert_eq!(set("x.example.com", Kind::Txt, &[r#"v=spf1 "q""#]).unwrap().contents, [r#""v=spf1 \"q\"""#]);
        assert_eq!(
            set("x.example.com", Kind::Caa, &[r#"0 ISSUE "ca.test""#]).unwrap().contents,
            [r#"0 issue "ca.test""#]
        );
        let long = set("x.example.com", Kind::Txt, &[&"a".repeat(300)]).unwrap();
        assert_eq!(long.contents[0], format!("\"{}\" \"{}\"", "a".repeat(255), "a".repeat(45)));
    }

    #[test]
    fn bad_records_are_refused() {
        for (name, kind, content) in [
            ("x.example.com", Kind::A, "10.0.0.256"),
            ("x.example.com", Kind::A, "::1"),
            ("x.example.com", Kind::Aaaa, "10.0.0.1"),
            ("x.example.com", Kind::Cname, "bad host"),
            ("x.example.com", Kind::Txt, "line\nbreak"),
            ("x.example.com", Kind::Caa, "0 issue ca.test"),
            ("x.example.com", Kind::Caa, "0 tag \"x\""),
            ("bad..example.com", Kind::A, "10.0.0.1"),
            ("-x.example.com", Kind::A, "10.0.0.1"),
        ] {
            assert!(set(name, kind, &[content]).is_err(), "{name} {kind} {content}");
        }
        assert!(set("x.example.com", Kind::Cname, &["a.example.com", "b.example.com"]).is_err());
        assert!(set("x.example.com", Kind::A, &[]).is_err());
        assert!(RecordSet::new("x.example.com", Kind::A, 0, &["10.0.0.1".into()]).is_err());
        assert!(Kind::parse("MX").is_err());
    }
}
