//! Timestamps the way the API server writes them (RFC 3339, second
//! precision, UTC: `2026-11-25T18:00:00Z`) and `kubectl`'s human durations
//! (`5s`, `3m20s`, `2d4h`) for Age columns.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Now, as the API server writes a timestamp.
pub fn now() -> String {
    format_time(OffsetDateTime::now_utc())
}

fn format_time(t: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The age of an RFC 3339 timestamp as `kubectl` shows it, or `None` if it
/// does not parse.
pub fn age(timestamp: &str) -> Option<String> {
    let then = OffsetDateTime::parse(timestamp, &Rfc3339).ok()?;
    let seconds = (OffsetDateTime::now_utc() - then).whole_seconds().max(0);
    Some(human_duration(seconds))
}

/// apimachinery's `duration.HumanDuration`, slightly shortened.
pub fn human_duration(seconds: i64) -> String {
    let minutes = seconds / 60;
    let hours = minutes / 60;
    let days = hours / 24;
    if seconds < 120 {
        format!("{seconds}s")
    } else if minutes < 10 {
        match seconds % 60 {
            0 => format!("{minutes}m"),
            s => format!("{minutes}m{s}s"),
        }
    } else if minutes < 180 {
        format!("{minutes}m")
    } else if hours < 8 {
        match minutes % 60 {
            0 => format!("{hours}h"),
            m => format!("{hours}h{m}m"),
        }
    } else if hours < 48 {
        format!("{hours}h")
    } else if hours < 192 {
        match hours % 24 {
            0 => format!("{days}d"),
            h => format!("{days}d{h}h"),
        }
    } else if days < 365 * 2 {
        format!("{days}d")
    } else {
        format!("{}y", days / 365)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_second_precision_and_z() {
        let t = now();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.ends_with('Z'));
        assert_eq!(age(&t).as_deref(), Some("0s"));
    }

    #[test]
    fn human_durations_follow_kubectl() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(200), "3m20s");
        assert_eq!(human_duration(3600), "60m");
        assert_eq!(human_duration(4 * 3600), "4h");
        assert_eq!(human_duration(3 * 86400 + 3600), "3d1h");
    }
}
