//! `blkio_config`: a service's share of block I/O and its per-device limits, for the engine's
//! blkio cgroup settings.

use serde::de::Deserializer;
use serde::{Deserialize, Serialize};
use serde_yaml::Value;

use super::de::{fail, size};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlkioConfig {
    /// Relative weight, 10 to 1000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u16>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weight_device: Vec<WeightDevice>,
    /// Bytes a second (`12mb` and the like).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub device_read_bps: Vec<ThrottleDevice>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub device_write_bps: Vec<ThrottleDevice>,
    /// Operations a second.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub device_read_iops: Vec<ThrottleDevice>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub device_write_iops: Vec<ThrottleDevice>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightDevice {
    pub path: String,
    pub weight: u16,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThrottleDevice {
    pub path: String,
    #[serde(deserialize_with = "rate")]
    pub rate: u64,
}

fn rate<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    size(&Value::deserialize(d)?)
        .map_err(fail)?
        .ok_or_else(|| fail("a device limit needs a `rate`"))
}
