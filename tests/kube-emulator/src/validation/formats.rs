//! String `format`s that the API server checks in custom resources.
//!
//! "Extend the Kubernetes API with CustomResourceDefinitions" → "Format"
//! (<https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#format>)
//! lists the formats a CRD may use; any other format (`int32`, `int64`,
//! `float`, ...) is ignored, and a value that breaks a checked one is
//! reported as `<path> in body must be of type <format>: "<value>"`. The
//! checks follow kube-openapi's `strfmt` registry. Formats whose exact
//! rules this emulator does not reproduce (`uri`, `email`, `isbn*`,
//! `creditcard`, `ssn`, `rgbcolor`, `duration`, `bsonobjectid`) are
//! accepted unchecked.

use std::net::{IpAddr, Ipv6Addr};
use std::sync::LazyLock;

use regex::Regex;

/// Whether `text` satisfies `format`; `None` when the format is not one
/// this emulator checks (so the value passes, as an unknown format does).
pub fn check(format: &str, text: &str) -> Option<bool> {
    // kube-openapi normalizes format names by dropping dashes.
    let normalized = format.replace('-', "");
    let valid = match normalized.as_str() {
        "datetime" => is_date_time(text),
        "date" => is_date(text),
        "uuid" => matches(&UUID, text),
        "uuid3" => matches(&UUID3, text),
        "uuid4" => matches(&UUID4, text),
        "uuid5" => matches(&UUID5, text),
        "byte" => matches(&BASE64, text),
        "hexcolor" => matches(&HEX_COLOR, text),
        "hostname" => matches(&HOSTNAME, text),
        "ipv4" => is_ipv4(text),
        "ipv6" => text.contains(':') && text.parse::<Ipv6Addr>().is_ok(),
        "cidr" => is_cidr(text),
        "mac" => matches(&MAC, text),
        "password" => true,
        "k8sshortname" => is_dns_label(text),
        "k8slongname" => is_dns_subdomain(text),
        _ => return None,
    };
    Some(valid)
}

fn compile(pattern: &str) -> Option<Regex> {
    Regex::new(pattern).ok()
}

fn matches(re: &LazyLock<Option<Regex>>, text: &str) -> bool {
    re.as_ref().is_some_and(|re| re.is_match(text))
}

static UUID: LazyLock<Option<Regex>> = LazyLock::new(|| {
    compile("(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$")
});
static UUID3: LazyLock<Option<Regex>> = LazyLock::new(|| {
    compile("(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$")
});
static UUID4: LazyLock<Option<Regex>> = LazyLock::new(|| {
    compile("(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$")
});
static UUID5: LazyLock<Option<Regex>> = LazyLock::new(|| {
    compile("(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$")
});
static BASE64: LazyLock<Option<Regex>> = LazyLock::new(|| {
    compile("^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$")
});
static HEX_COLOR: LazyLock<Option<Regex>> =
    LazyLock::new(|| compile("^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"));
static HOSTNAME: LazyLock<Option<Regex>> = LazyLock::new(|| {
    compile(
        r"^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9-\p{S}\p{L}]{0,61}[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z\p{L}]){2,63})$",
    )
});
static MAC: LazyLock<Option<Regex>> = LazyLock::new(|| {
    compile(
        "^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$|^([0-9A-Fa-f]{2}[:-]){7}[0-9A-Fa-f]{2}$|^([0-9A-Fa-f]{4}\\.){2}[0-9A-Fa-f]{4}$",
    )
});
static TIME_OF_DAY: LazyLock<Option<Regex>> = LazyLock::new(|| {
    compile("^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$")
});

/// RFC 3339 `date-time`, checked as strfmt's `IsDateTime` does: a valid
/// full date, `T`, then a time of day with a zone (case-insensitive).
fn is_date_time(text: &str) -> bool {
    let lower = text.to_lowercase();
    let mut parts = lower.split('t');
    let (Some(date), Some(time)) = (parts.next(), parts.next()) else {
        return false;
    };
    if !is_date(date) {
        return false;
    }
    let Some(re) = TIME_OF_DAY.as_ref() else {
        return false;
    };
    re.captures(time).is_some_and(|c| {
        let field = |i: usize| c.get(i).map_or("", |m| m.as_str());
        field(1) <= "23" && field(2) <= "59" && field(3) <= "59"
    })
}

/// RFC 3339 `full-date`: `YYYY-MM-DD`, a day that exists.
fn is_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return false;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = text.get(range)?;
        if digits.bytes().all(|b| b.is_ascii_digit()) {
            digits.parse().ok()
        } else {
            None
        }
    };
    let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10)) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// Dotted-quad IPv4, tolerating leading zeros as the API server does.
fn is_ipv4(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && p.parse::<u16>().is_ok_and(|n| n <= 255)
        })
}

fn is_cidr(text: &str) -> bool {
    let Some((address, prefix)) = text.split_once('/') else {
        return false;
    };
    let Ok(prefix) = prefix.parse::<u8>() else {
        return false;
    };
    if is_ipv4(address) {
        return prefix <= 32;
    }
    matches!(address.parse::<IpAddr>(), Ok(IpAddr::V6(_))) && prefix <= 128
}

/// A lowercase RFC 1123 label of at most 63 characters.
fn is_dns_label(text: &str) -> bool {
    let bytes = text.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
}

/// Dot-separated lowercase labels, at most 253 characters.
fn is_dns_subdomain(text: &str) -> bool {
    text.len() <= 253
        && text.split('.').all(|label| {
            let bytes = label.as_bytes();
            !bytes.is_empty()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
                && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
                && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_accept_and_refuse() {
        let cases = [
            ("date-time", "2026-01-01T00:00:00Z", Some(true)),
            ("date-time", "2026-01-01T12:30:45.123+02:00", Some(true)),
            ("date-time", "2026-01-01 00:00:00Z", Some(false)),
            ("date-time", "2026-02-30T00:00:00Z", Some(false)),
            ("date-time", "2026-01-01T24:00:00Z", Some(false)),
            ("date-time", "yesterday", Some(false)),
            ("date", "2024-02-29", Some(true)),
            ("date", "2023-02-29", Some(false)),
            ("uuid", "4135ea2d-6df8-44a3-9df3-4b5a84be39ad", Some(true)),
            ("uuid", "not-a-uuid", Some(false)),
            ("byte", "aGVsbG8=", Some(true)),
            ("byte", "hello!", Some(false)),
            ("ipv4", "10.0.0.1", Some(true)),
            ("ipv4", "10.0.0.256", Some(false)),
            ("ipv6", "::1", Some(true)),
            ("cidr", "10.0.0.0/8", Some(true)),
            ("cidr", "10.0.0.0/33", Some(false)),
            ("mac", "00:1a:2b:3c:4d:5e", Some(true)),
            ("hostname", "example.com", Some(true)),
            ("hostname", "-bad-", Some(false)),
            ("k8s-short-name", "my-name", Some(true)),
            ("k8s-short-name", "My-Name", Some(false)),
            ("k8s-long-name", "a.b-c.d", Some(true)),
            ("int32", "anything", None),
            ("email", "anything", None),
        ];
        for (format, text, expected) in cases {
            assert_eq!(check(format, text), expected, "{format} {text}");
        }
    }
}
