//! Byte counts for people, as docker prints them: memory in binary units (MiB), traffic in decimal
//! ones (MB).

pub fn binary_bytes(n: u64) -> String {
    scaled(n as f64, 1024.0, &["B", "KiB", "MiB", "GiB", "TiB"])
}

pub fn decimal_bytes(n: u64) -> String {
    scaled(n as f64, 1000.0, &["B", "kB", "MB", "GB", "TB"])
}

/// Decimal units with three significant digits, as docker's `HumanSizeWithPrecision(n, 3)`
/// (Go's `%.3g`): 117MB, 74.8MB, 5kB.
pub fn decimal_bytes_3(n: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < units.len() {
        v /= 1000.0;
        unit += 1;
    }
    format!("{}{}", go_g3(v), units[unit])
}

/// Go's `%.3g`: three significant digits, no trailing zeros, an exponent from 1000 up.
fn go_g3(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let sci = format!("{v:.2e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            s.to_owned()
        }
    };
    if !(-4..3).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{}e{sign}{:02}", trim(mantissa), exp.abs());
    }
    trim(&format!("{v:.*}", (2 - exp).max(0) as usize))
}

fn scaled(mut n: f64, step: f64, units: &[&str]) -> String {
    let mut unit = 0;
    while n >= step && unit + 1 < units.len() {
        n /= step;
        unit += 1;
    }
    if unit == 0 {
        format!("{n:.0}{}", units[0])
    } else {
        format!("{n:.2}{}", units[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_dockers() {
        assert_eq!(binary_bytes(0), "0B");
        assert_eq!(binary_bytes(1023), "1023B");
        assert_eq!(binary_bytes(1536), "1.50KiB");
        assert_eq!(binary_bytes(40 * 1024 * 1024), "40.00MiB");
        assert_eq!(decimal_bytes(1_250), "1.25kB");
        assert_eq!(decimal_bytes(3_000_000_000), "3.00GB");
    }

    #[test]
    fn three_digit_sizes_read_like_docker_image_lists() {
        assert_eq!(decimal_bytes_3(117_207_040), "117MB");
        assert_eq!(decimal_bytes_3(74_830_000), "74.8MB");
        assert_eq!(decimal_bytes_3(5_000), "5kB");
        assert_eq!(decimal_bytes_3(999), "999B");
        assert_eq!(decimal_bytes_3(999_700), "1e+03kB");
        assert_eq!(decimal_bytes_3(1_234_567_890), "1.23GB");
        assert_eq!(decimal_bytes_3(0), "0B");
    }
}
