//! Byte counts for people, as docker prints them: memory in binary units (MiB), traffic in decimal
//! ones (MB).

pub fn binary_bytes(n: u64) -> String {
    scaled(n as f64, 1024.0, &["B", "KiB", "MiB", "GiB", "TiB"])
}

pub fn decimal_bytes(n: u64) -> String {
    scaled(n as f64, 1000.0, &["B", "kB", "MB", "GB", "TB"])
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
}
