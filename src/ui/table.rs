//! Plain aligned tables for `ps` and friends: columns as wide as their widest cell.

pub fn render(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                l.push_str(c);
            } else {
                l.push_str(&format!("{c:<w$}   ", w = widths[i]));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(headers.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

/// Rows as Go's tabwriter lays them out for compose: each column as wide as its widest cell plus
/// `padding`, at least `min_width`; the last cell of a line unpadded.
pub fn as_go_tabwriter(rows: &[Vec<String>], min_width: usize, padding: usize) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns.saturating_sub(1))
        .map(|i| {
            rows.iter()
                .filter(|r| r.len() > i + 1)
                .map(|r| r[i].chars().count() + padding)
                .max()
                .unwrap_or(0)
                .max(min_width)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        for (i, cell) in r.iter().enumerate() {
            match widths.get(i).filter(|_| i + 1 < r.len()) {
                Some(w) => out.push_str(&format!("{cell:<w$}")),
                None => out.push_str(cell),
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_align() {
        let t = super::render(
            &["NAME", "STATE"],
            &[
                vec!["a-web-1".into(), "running".into()],
                vec!["b".into(), "exited".into()],
            ],
        );
        assert_eq!(t, "NAME      STATE\na-web-1   running\nb         exited\n");
    }

    #[test]
    fn go_tabwriter_columns_have_a_floor_and_padding() {
        let rows = [
            vec!["IMAGE ID".to_owned(), "REPO".into(), "SIZE".into()],
            vec![
                "0123456789ab".into(),
                "a-rather-long-repository".into(),
                "5MB".into(),
            ],
        ];
        let t = super::as_go_tabwriter(&rows, 20, 3);
        assert_eq!(
            t,
            format!(
                "{:<20}{:<27}SIZE\n{:<20}{:<27}5MB\n",
                "IMAGE ID", "REPO", "0123456789ab", "a-rather-long-repository"
            )
        );
    }
}
