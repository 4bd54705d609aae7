//! Compose's scalar units: Go-style durations (`1m30s`, `500ms`, `1.5s`) and byte sizes (`512m`, `1g`).

use std::time::Duration;

/// Parses a Go duration as Compose accepts it. Bare numbers are refused: `10` is ambiguous.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() {
        return Err("empty duration".into());
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(format!("`{s}` is not a duration"));
        }
        let number: f64 = rest[..num_len]
            .parse()
            .map_err(|_| format!("`{s}` is not a duration"))?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => return Err(format!("`{s}` has a number without a unit")),
            u => return Err(format!("`{s}` has an unknown unit `{u}`")),
        };
        rest = &rest[unit_len..];
        total += number * scale;
    }
    if !total.is_finite() || total > 1e10 {
        return Err(format!("`{s}` is too long a duration"));
    }
    Ok(Duration::from_secs_f64(total))
}

/// Formats a duration the way Go prints it (`1m30s`, `500ms`), so `config` output reads back the same.
/// The interval of a refreshing pull policy: `daily`, `weekly` or `every_<duration>` (such as
/// `every_12h`, `every_2d`, `every_1w`); None for the other policies.
pub fn refresh_interval(policy: &str) -> Option<Result<Duration, String>> {
    const DAY: u64 = 24 * 3600;
    match policy {
        "daily" => Some(Ok(Duration::from_secs(DAY))),
        "weekly" => Some(Ok(Duration::from_secs(7 * DAY))),
        _ => {
            let every = policy.strip_prefix("every_")?;
            let days = |n: &str, per: u64| {
                let n = n
                    .parse::<u64>()
                    .map_err(|_| format!("`{every}` is not a duration"))?;
                // Past what the other durations allow (about 317 years) is a typo, not a policy.
                n.checked_mul(per * DAY)
                    .filter(|secs| *secs <= 10_000_000_000)
                    .map(Duration::from_secs)
                    .ok_or_else(|| format!("`{every}` is too long a duration"))
            };
            Some(match every {
                e if e.ends_with('d') => days(&e[..e.len() - 1], 1),
                e if e.ends_with('w') => days(&e[..e.len() - 1], 7),
                e => parse_duration(e),
            })
        }
    }
}

/// A service's pull policy, read once from `pull_policy` and `pull_refresh_after` into what the
/// engine acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PullPolicy {
    /// Pull when the image is absent (`missing`, `if_not_present`, or no policy).
    #[default]
    Missing,
    Always,
    Never,
    /// Build the image; never pull it.
    Build,
    /// Pull again once the local copy is older than this (`daily`, `weekly`, `every_<d>`, or
    /// `refresh` with `pull_refresh_after`).
    Refresh(Duration),
}

impl PullPolicy {
    /// Reads the two keys; an error says what is wrong with which. `refresh` without
    /// `pull_refresh_after` pulls a missing image only, as compose does.
    pub fn read(policy: Option<&str>, refresh_after: Option<&str>) -> Result<Self, String> {
        Ok(match policy {
            None | Some("missing" | "if_not_present") => PullPolicy::Missing,
            Some("always") => PullPolicy::Always,
            Some("never") => PullPolicy::Never,
            Some("build") => PullPolicy::Build,
            Some("refresh") => match refresh_after {
                Some(after) => PullPolicy::Refresh(refresh_after_interval(after)?),
                None => PullPolicy::Missing,
            },
            Some(other) => match refresh_interval(other) {
                Some(interval) => PullPolicy::Refresh(interval?),
                None => {
                    return Err(format!(
                        "`{other}` is not a pull policy; use always, never, missing, build, refresh, daily, weekly or every_<duration>"
                    ));
                }
            },
        })
    }
}

/// `pull_refresh_after`: a duration such as `12h`, `2d` or `1w`.
pub fn refresh_after_interval(after: &str) -> Result<Duration, String> {
    refresh_interval(&format!("every_{}", after.trim()))
        .unwrap_or_else(|| Err(format!("`{after}` is not a duration")))
}

#[cfg(test)]
#[test]
fn a_refresh_interval_too_long_to_count_is_refused_not_a_panic() {
    // Found by the manifest_load fuzz target (tests/fuzz/regressions/…-every-overflow.bin).
    assert!(refresh_interval("every_999999999999999d").unwrap().is_err());
    assert!(
        refresh_interval("every_99999999999999999w")
            .unwrap()
            .is_err()
    );
    assert_eq!(
        refresh_interval("every_2d").unwrap(),
        Ok(Duration::from_secs(2 * 24 * 3600))
    );
}

/// A duration as Go prints it, and so as compose prints it in `config`: `2m0s`, `1h0m30s`, `1.5s`,
/// `500ms`, `1.5µs`, `0s`.
pub fn format_duration(d: Duration) -> String {
    let n = d.as_nanos();
    match n {
        0 => "0s".into(),
        1..1_000 => format!("{n}ns"),
        1_000..1_000_000 => format!("{}µs", decimal(n, 1_000)),
        1_000_000..1_000_000_000 => format!("{}ms", decimal(n, 1_000_000)),
        _ => {
            let secs = d.as_secs();
            let (h, m) = (secs / 3600, (secs % 3600) / 60);
            let s = decimal(n % 60_000_000_000, 1_000_000_000);
            match (h, m) {
                (0, 0) => format!("{s}s"),
                (0, m) => format!("{m}m{s}s"),
                (h, m) => format!("{h}h{m}m{s}s"),
            }
        }
    }
}

thread_local! {
    static COMPACT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with durations serialised in the compact form (see `format_duration_compact`): the
/// configuration hash's, which must not change with how `config` spells them.
pub fn with_compact_durations<T>(f: impl FnOnce() -> T) -> T {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            COMPACT.set(false);
        }
    }
    COMPACT.set(true);
    let _reset = Reset;
    f()
}

/// A duration as serialised now: Go's form, or the compact one inside `with_compact_durations`.
pub fn serialised_duration(d: Duration) -> String {
    if COMPACT.get() {
        format_duration_compact(d)
    } else {
        format_duration(d)
    }
}

/// The duration as stackctl wrote it before it printed Go's form (`2m`, `1h`, `2h5s`): what the
/// configuration hashes on existing containers were made from.
pub fn format_duration_compact(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".into();
    }
    if !nanos.is_multiple_of(1_000_000_000) {
        if nanos < 1_000_000_000 {
            return if nanos.is_multiple_of(1_000_000) {
                format!("{}ms", nanos / 1_000_000)
            } else {
                format!("{}us", nanos / 1_000)
            };
        }
        return format!("{}s", d.as_secs_f64());
    }
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

/// `value / unit` with its fraction, trailing zeros dropped (`1500, 1000` → `1.5`).
fn decimal(value: u128, unit: u128) -> String {
    let (whole, rest) = (value / unit, value % unit);
    if rest == 0 {
        return whole.to_string();
    }
    let width = unit.ilog10() as usize;
    let fraction = format!("{rest:0width$}");
    format!("{whole}.{}", fraction.trim_end_matches('0'))
}

/// Parses `512m`, `1g`, `1.5gb`, `1024`, `100k` into bytes.
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim().to_ascii_lowercase();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("`{s}` is not a size"))?;
    // As Docker's own parser: one optional space, then k/m/g/t/p, an optional `i`, an optional `b`.
    let unit = unit.strip_prefix(' ').unwrap_or(unit);
    let unit = unit.strip_suffix('b').unwrap_or(unit);
    let unit = unit.strip_suffix('i').unwrap_or(unit);
    let scale: f64 = match unit {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024f64.powi(2),
        "g" => 1024f64.powi(3),
        "t" => 1024f64.powi(4),
        "p" => 1024f64.powi(5),
        _ => {
            return Err(format!(
                "`{s}` has an unknown size unit (use b, k, m, g, t or p)"
            ));
        }
    };
    let v = n * scale;
    if !v.is_finite() || v > u64::MAX as f64 {
        return Err(format!("`{s}` is too large"));
    }
    Ok(v as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refreshing_pull_policies_name_their_interval() {
        let h = |n: u64| Duration::from_secs(n * 3600);
        assert_eq!(refresh_interval("daily"), Some(Ok(h(24))));
        assert_eq!(refresh_interval("weekly"), Some(Ok(h(168))));
        assert_eq!(refresh_interval("every_12h"), Some(Ok(h(12))));
        assert_eq!(
            PullPolicy::read(Some("refresh"), Some("2d")),
            Ok(PullPolicy::Refresh(h(48)))
        );
        assert_eq!(
            PullPolicy::read(Some("refresh"), None),
            Ok(PullPolicy::Missing)
        );
        assert_eq!(
            PullPolicy::read(Some("weekly"), Some("1h")),
            Ok(PullPolicy::Refresh(h(168)))
        );
        assert_eq!(
            PullPolicy::read(Some("if_not_present"), None),
            Ok(PullPolicy::Missing)
        );
        assert_eq!(PullPolicy::read(Some("build"), None), Ok(PullPolicy::Build));
        assert!(PullPolicy::read(Some("refresh"), Some("soon")).is_err());
        assert!(PullPolicy::read(Some("sometimes"), None).is_err());
        assert_eq!(refresh_interval("every_2d"), Some(Ok(h(48))));
        assert_eq!(refresh_interval("every_1w"), Some(Ok(h(168))));
        assert!(matches!(refresh_interval("every_soon"), Some(Err(_))));
        assert_eq!(refresh_interval("missing"), None);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("1m30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        for bad in ["", "10", "s", "10x", "1..2s", "-1s", "9999999999h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_print_as_go_prints_them_and_read_back() {
        for (written, go) in [
            ("10s", "10s"),
            ("1m30s", "1m30s"),
            ("2m", "2m0s"),
            ("1h", "1h0m0s"),
            ("2h5s", "2h0m5s"),
            ("500ms", "500ms"),
            ("1.5s", "1.5s"),
            ("61.25s", "1m1.25s"),
            ("1500us", "1.5ms"),
            ("0s", "0s"),
        ] {
            let d = parse_duration(written).unwrap();
            assert_eq!(format_duration(d), go, "{written}");
            assert_eq!(parse_duration(go).unwrap(), d, "{go} reads back");
        }
        assert_eq!(format_duration(Duration::from_nanos(1500)), "1.5µs");
        assert_eq!(format_duration(Duration::from_nanos(7)), "7ns");
    }

    #[test]
    fn the_compact_form_of_the_hashes_round_trips() {
        for s in ["10s", "1m30s", "500ms", "1h", "2h5s", "0s", "1.5s"] {
            assert_eq!(format_duration_compact(parse_duration(s).unwrap()), s);
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("512m").unwrap(), 512 * 1024 * 1024);
        assert_eq!(parse_bytes("1g").unwrap(), 1 << 30);
        assert_eq!(parse_bytes("1GB").unwrap(), 1 << 30);
        assert_eq!(parse_bytes("100").unwrap(), 100);
        assert_eq!(parse_bytes("1 g").unwrap(), 1 << 30);
        assert_eq!(parse_bytes("2GiB").unwrap(), 2 << 30);
        assert_eq!(parse_bytes("1 kb").unwrap(), 1024);
        assert!(parse_bytes("1  g").is_err());
        assert!(parse_bytes("1gbb").is_err());
        assert!(parse_bytes("lots").is_err());
        assert!(parse_bytes("1x").is_err());
    }
}
