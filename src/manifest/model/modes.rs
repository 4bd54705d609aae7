//! `network_mode`, parsed once where it is read: what the engine and the plan match on is a type,
//! not a string with a fallback.

use std::fmt;

use serde::{Serialize, Serializer};

/// How a service's containers get their network stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkMode {
    Bridge,
    Host,
    None,
    /// The network stack of the service's first container.
    Service(String),
    /// The network stack of a container outside the project.
    Container(String),
}

impl NetworkMode {
    pub fn parse(s: &str) -> Result<Self, String> {
        let named = |rest: &str| (!rest.is_empty()).then(|| rest.to_owned());
        match s {
            "bridge" => Ok(Self::Bridge),
            "host" => Ok(Self::Host),
            "none" => Ok(Self::None),
            _ => s
                .strip_prefix("service:")
                .and_then(named)
                .map(Self::Service)
                .or_else(|| {
                    s.strip_prefix("container:")
                        .and_then(named)
                        .map(Self::Container)
                })
                .ok_or_else(|| {
                    format!(
                        "expected host, none, bridge, service:NAME or container:NAME, found `{s}`"
                    )
                }),
        }
    }

    /// The service whose container this one shares, for `service:NAME`.
    pub fn service(&self) -> Option<&str> {
        match self {
            Self::Service(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for NetworkMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bridge => f.write_str("bridge"),
            Self::Host => f.write_str("host"),
            Self::None => f.write_str("none"),
            Self::Service(s) => write!(f, "service:{s}"),
            Self::Container(c) => write!(f, "container:{c}"),
        }
    }
}

impl Serialize for NetworkMode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
