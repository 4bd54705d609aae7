//! Image references as the daemon parses them (`[domain[:port]/]path[:tag][@digest]`), checked
//! before any API call so that a bad `image:` is an error at its line, not a 400 from the daemon.

use super::diag::clip;

/// `reference` in full, as the docker CLI spells it: Docker Hub's domain and `library/` filled in,
/// `:latest` when there is neither tag nor digest (`redis` → `docker.io/library/redis:latest`),
/// and a tag beside a digest dropped (the digest decides).
pub fn full(reference: &str) -> String {
    let (rest, digest) = match reference.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (reference, None),
    };
    // The first part names a registry when it looks like a host: a dot, a port, or localhost.
    let named = match rest.split_once('/') {
        Some((first, _)) if first.contains(['.', ':']) || first == "localhost" => rest.to_owned(),
        Some(_) => format!("docker.io/{rest}"),
        None => format!("docker.io/library/{rest}"),
    };
    // A tag follows the last `:` after the last `/` (one before it is a port).
    let tag_at = named.rfind(':').filter(|i| !named[*i..].contains('/'));
    match (digest, tag_at) {
        (Some(d), _) => format!("{}@{d}", &named[..tag_at.unwrap_or(named.len())]),
        (None, Some(_)) => named,
        (None, None) => format!("{named}:latest"),
    }
}

/// Why `reference` is not an image reference the daemon accepts, or None when it is one.
pub fn problem(reference: &str) -> Option<String> {
    if reference.is_empty() {
        return Some("it is empty".into());
    }
    let (rest, digest) = match reference.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (reference, None),
    };
    if let Some(d) = digest {
        let ok = d.split_once(':').is_some_and(|(algo, hex)| {
            !algo.is_empty()
                && algo
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+._-".contains(c))
                && hex.len() >= 32
                && hex.chars().all(|c| c.is_ascii_hexdigit())
        });
        if !ok {
            return Some(format!(
                "`@{}` is not a digest (ALGORITHM:HEX)",
                clip(d, 60)
            ));
        }
    }
    // A tag follows the last `:` that comes after the last `/` (a `:` before it is a port).
    let (name, tag) = match rest.rfind(':') {
        Some(i) if !rest[i..].contains('/') => (&rest[..i], Some(&rest[i + 1..])),
        _ => (rest, None),
    };
    if let Some(t) = tag {
        let ok = t.len() <= 128
            && t.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        if !ok {
            return Some(format!(
                "the tag `{}` is not 1 to 128 letters, digits, `_`, `.` and `-`",
                clip(t, 60)
            ));
        }
    }
    if name.len() > 255 {
        return Some(format!(
            "the name is {} characters long; the daemon takes at most 255",
            name.len()
        ));
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    // The first part is a registry when it looks like a host: a `.` or `:` in it, or `localhost`.
    if parts.len() > 1 && (parts[0].contains(['.', ':']) || parts[0] == "localhost") {
        let domain = parts.remove(0);
        let (host, port) = domain.split_once(':').unwrap_or((domain, ""));
        let host_ok = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        if !host_ok || (!port.is_empty() || domain.contains(':')) && port.parse::<u16>().is_err() {
            return Some(format!(
                "`{}` is not a registry HOST[:PORT]",
                clip(domain, 60)
            ));
        }
    }
    for part in parts {
        if let Some(why) = path_component_problem(part) {
            return Some(why);
        }
    }
    None
}

/// `[a-z0-9]+` runs joined by `.`, `_`, `__` or any number of `-`.
fn path_component_problem(part: &str) -> Option<String> {
    if part.is_empty() {
        return Some("it has an empty path component (`//` or a leading or trailing `/`)".into());
    }
    if part.chars().any(|c| c.is_ascii_uppercase()) {
        return Some(format!(
            "`{}` has capital letters; repository names are lowercase",
            clip(part, 60)
        ));
    }
    let bytes = part.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let ok = alnum(bytes[0])
        && alnum(bytes[bytes.len() - 1])
        && part
            .chars()
            .all(|c| alnum(c as u8) && c.is_ascii() || "._-".contains(c))
        && !part.contains("..")
        && !part.contains("._")
        && !part.contains("_.")
        && !part.contains("___")
        && !part.contains(".-")
        && !part.contains("-.")
        && !part.contains("_-")
        && !part.contains("-_");
    (!ok).then(|| {
        format!(
            "`{}` is not lowercase letters and digits joined by `.`, `_`, `__` or `-`",
            clip(part, 60)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::problem;

    #[test]
    fn references_the_daemon_takes_pass() {
        for ok in [
            "nginx",
            "nginx:1.27-alpine",
            "library/redis:7",
            "127.0.0.1:5000/library/redis:7-alpine",
            "localhost/app",
            "registry.example.com:443/team/app_x__y-z:v1.0",
            "ghcr.io/org/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "proj-webapp",
        ] {
            assert_eq!(problem(ok), None, "{ok}");
        }
    }

    #[test]
    fn references_the_daemon_refuses_say_why() {
        let cases = [
            ("proj-WebApp", "capital letters"),
            ("nginx:", "tag"),
            ("nginx:-x", "tag"),
            ("a//b", "empty path component"),
            ("app@sha256:xyz", "digest"),
            ("bad..name", "joined by"),
            ("", "empty"),
            ("host:99999/app", "registry"),
        ];
        for (bad, why) in cases {
            let p = problem(bad).unwrap_or_else(|| panic!("{bad} accepted"));
            assert!(p.contains(why), "{bad}: {p}");
        }
        let long = "a".repeat(1 << 20);
        let p = problem(&long).expect("1 MiB name");
        assert!(p.contains("255") && p.len() < 200, "{p}");
    }
}

#[cfg(test)]
#[test]
fn references_are_spelt_in_full_as_docker_does() {
    assert_eq!(full("redis"), "docker.io/library/redis:latest");
    assert_eq!(full("redis:7-alpine"), "docker.io/library/redis:7-alpine");
    assert_eq!(full("bitnami/redis"), "docker.io/bitnami/redis:latest");
    assert_eq!(
        full("127.0.0.1:5000/library/redis:7"),
        "127.0.0.1:5000/library/redis:7"
    );
    assert_eq!(full("localhost/app"), "localhost/app:latest");
    assert_eq!(full("ghcr.io/o/app@sha256:ab"), "ghcr.io/o/app@sha256:ab");
    assert_eq!(
        full("redis:7@sha256:ab"),
        "docker.io/library/redis@sha256:ab"
    );
    assert_eq!(
        full("localhost:5000/app@sha256:ab"),
        "localhost:5000/app@sha256:ab"
    );
}
