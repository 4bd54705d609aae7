//! `ports`: the short `[IP:][HOST[-END]:]CONTAINER[-END][/PROTO]` form and the long form.

use serde::Deserialize;
use serde::de::Deserializer;
use serde_yaml::Value;

use super::*;
use crate::manifest::model::*;

pub(crate) fn ports<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Port>, D::Error> {
    let items = match Value::deserialize(d)? {
        Value::Null => return Ok(Vec::new()),
        Value::Sequence(items) => items,
        other => {
            return Err(fail(format!(
                "expected a list of ports, found {}",
                kind_of(&other)
            )));
        }
    };
    let mut out = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        match item {
            Value::Mapping(m) => {
                let target = m
                    .get("target")
                    .and_then(scalar_text)
                    .ok_or_else(|| fail(format!("port {i}: the long form needs `target`")))?;
                for key in m.keys() {
                    let key = scalar_text(key).unwrap_or_default();
                    if ![
                        "target",
                        "published",
                        "host_ip",
                        "protocol",
                        "mode",
                        "name",
                        "app_protocol",
                    ]
                    .contains(&key.as_str())
                    {
                        return Err(fail(format!(
                            "port {i}: unknown key `{key}`; expected target, published, host_ip, protocol or mode"
                        )));
                    }
                }
                let target =
                    parse_port_number(&target).map_err(|e| fail(format!("port {i}: {e}")))?;
                let published = match m.get("published").and_then(scalar_text) {
                    Some(p) => {
                        let (first, last) =
                            parse_port_range(&p).map_err(|e| fail(format!("port {i}: {e}")))?;
                        Some(PortRange { first, last })
                    }
                    None => None,
                };
                let mode = match m.get("mode").and_then(scalar_text).as_deref() {
                    None => None,
                    Some("host") => Some(PortMode::Host),
                    Some("ingress") => Some(PortMode::Ingress),
                    Some(other) => {
                        return Err(fail(format!(
                            "port {i}: mode `{other}` is not host or ingress"
                        )));
                    }
                };
                out.push(Port {
                    target,
                    published,
                    host_ip: m.get("host_ip").and_then(scalar_text),
                    protocol: m
                        .get("protocol")
                        .and_then(scalar_text)
                        .map(|p| Protocol::parse(&p).map_err(|e| fail(format!("port {i}: {e}"))))
                        .transpose()?
                        .unwrap_or_default(),
                    mode,
                });
            }
            other => {
                let s = scalar_text(&other).ok_or_else(|| {
                    fail(format!(
                        "port {i} should be a string like \"8080:80\", found {}",
                        kind_of(&other)
                    ))
                })?;
                out.extend(parse_port_short(&s).map_err(|e| fail(format!("port {i} `{s}`: {e}")))?);
            }
        }
    }
    Ok(out)
}

pub(crate) fn parse_port_number(s: &str) -> Result<u16, String> {
    match s.trim().parse::<u32>() {
        Ok(n) if (1..=65535).contains(&n) => Ok(n as u16),
        Ok(n) => Err(format!("{n} is outside 1-65535")),
        Err(_) => Err(format!("`{s}` is not a port number")),
    }
}

pub(crate) fn parse_port_range(s: &str) -> Result<(u16, u16), String> {
    match s.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (parse_port_number(a)?, parse_port_number(b)?);
            if a > b {
                return Err(format!("the range {a}-{b} runs backwards"));
            }
            Ok((a, b))
        }
        None => parse_port_number(s).map(|p| (p, p)),
    }
}

/// `[HOST_IP:][PUBLISHED[-END]:]TARGET[-END][/PROTOCOL]`
pub fn parse_port_short(s: &str) -> Result<Vec<Port>, String> {
    let (spec, protocol) = match s.rsplit_once('/') {
        Some((spec, proto)) => (spec, Protocol::parse(proto)?),
        None => (s, Protocol::Tcp),
    };
    // An IPv6 host address is written in brackets: [::1]:8080:80
    let (host_ip, rest) = if let Some(stripped) = spec.strip_prefix('[') {
        let (ip, rest) = stripped
            .split_once("]:")
            .ok_or("an IPv6 host address needs `]:` after it")?;
        (Some(ip.to_owned()), rest)
    } else {
        let parts: Vec<&str> = spec.split(':').collect();
        match parts.len() {
            1 | 2 => (None, spec),
            3 => (Some(parts[0].to_owned()), &spec[parts[0].len() + 1..]),
            _ => {
                return Err(
                    "too many `:`; the form is [HOST_IP:][HOST_PORT:]CONTAINER_PORT".into(),
                );
            }
        }
    };
    if let Some(ip) = &host_ip
        && ip.parse::<std::net::IpAddr>().is_err()
    {
        return Err(format!("`{ip}` is not an IP address"));
    }
    let (published, target) = match rest.split_once(':') {
        Some((p, t)) => (if p.is_empty() { None } else { Some(p) }, t),
        None => (None, rest),
    };
    let (t0, t1) = parse_port_range(target)?;
    let count = (t1 - t0) as usize + 1;
    let mut out = Vec::with_capacity(count);
    match published.map(parse_port_range).transpose()? {
        // One container port, a host range: each replica takes one port of the range.
        Some((p0, p1)) if count == 1 => out.push(Port {
            target: t0,
            published: Some(PortRange {
                first: p0,
                last: p1,
            }),
            host_ip,
            protocol,
            mode: None,
        }),
        Some((p0, p1)) => {
            if (p1 - p0) as usize + 1 != count {
                return Err(format!(
                    "the host range {p0}-{p1} and the container range {t0}-{t1} differ in length"
                ));
            }
            for i in 0..count as u16 {
                out.push(Port {
                    target: t0 + i,
                    published: Some(PortRange::single(p0 + i)),
                    host_ip: host_ip.clone(),
                    protocol,
                    mode: None,
                });
            }
        }
        None => {
            for i in 0..count as u16 {
                out.push(Port {
                    target: t0 + i,
                    published: None,
                    host_ip: host_ip.clone(),
                    protocol,
                    mode: None,
                });
            }
        }
    }
    Ok(out)
}
