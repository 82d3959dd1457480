//! Trino's IP address type as far as hunts use it: `CAST(x AS IPADDRESS)`,
//! `IPADDRESS '…'` and `contains(network, address)`, the test of whether
//! `sourceIPAddress` lies in a CIDR range.
//!
//! The lake has no IP type, so an address is its canonical text (`::ffff:
//! 10.0.0.1` is `10.0.0.1`, IPv6 in its shortest form): equal addresses
//! compare equal, though they sort as text.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, BooleanBuilder, StringBuilder};
use arrow::datatypes::DataType;
use datafusion::common::{exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// The names the dialect translates to: `CAST` and `TRY_CAST` to
/// IPADDRESS, and `contains` with a network.
pub(crate) const CAST: &str = "ipaddress";
pub(crate) const TRY_CAST: &str = "try_ipaddress";
pub(crate) const CONTAINS: &str = "cidr_contains";

pub fn all() -> Vec<ScalarUDF> {
    [CAST, TRY_CAST, CONTAINS]
        .into_iter()
        .map(|name| {
            ScalarUDF::from(IpFunction {
                name,
                signature: Signature::user_defined(Volatility::Immutable),
            })
        })
        .collect()
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct IpFunction {
    name: &'static str,
    signature: Signature,
}

impl ScalarUDFImpl for IpFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let wanted = if self.name == CONTAINS { 2 } else { 1 };
        if arg_types.len() != wanted {
            return plan_err!(
                "{}: wrong number of arguments ({})",
                self.name,
                arg_types.len()
            );
        }
        if let Some(other) = arg_types.iter().find(|t| {
            !matches!(
                t,
                DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 | DataType::Null
            )
        }) {
            return plan_err!(
                "{}: takes text (an address or a CIDR network), not {other}",
                self.name
            );
        }
        Ok(vec![DataType::Utf8; wanted])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(if self.name == CONTAINS {
            DataType::Boolean
        } else {
            DataType::Utf8
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let out = match self.name {
            CONTAINS => contains(&arrays[0], &arrays[1])?,
            name => canonical(&arrays[0], name == TRY_CAST)?,
        };
        Ok(ColumnarValue::Array(out))
    }
}

/// An address of either family. An IPv4-mapped IPv6 address
/// (`::ffff:10.0.0.1`) is the IPv4 address it maps, as in Trino.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ip {
    V4(u32),
    V6(u128),
}

fn address(text: &str) -> Option<Ip> {
    Some(match text.trim().parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => Ip::V4(u32::from(v4)),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => Ip::V4(u32::from(v4)),
            None => Ip::V6(u128::from(v6)),
        },
    })
}

fn text(ip: Ip) -> String {
    match ip {
        Ip::V4(a) => Ipv4Addr::from(a).to_string(),
        Ip::V6(a) => Ipv6Addr::from(a).to_string(),
    }
}

fn canonical(texts: &ArrayRef, lenient: bool) -> Result<ArrayRef> {
    let mut out = StringBuilder::new();
    for value in texts.as_string::<i32>() {
        match value.map(|v| (v, address(v))) {
            None => out.append_null(),
            Some((_, Some(ip))) => out.append_value(text(ip)),
            Some((_, None)) if lenient => out.append_null(),
            Some((v, None)) => {
                return exec_err!(
                    "cannot cast '{v:.80}' to IPADDRESS: not an IP address (try_cast or try(...) gives NULL instead)"
                );
            }
        }
    }
    Ok(Arc::new(out.finish()))
}

/// A CIDR network: its first address and prefix length.
#[derive(Debug, Clone, Copy)]
struct Network {
    start: Ip,
    bits: u32,
}

impl Network {
    /// `10.0.0.0/8`, `2001:db8::/32`; host bits past the prefix are
    /// ignored (Trino refuses them), so `10.1.2.3/8` is `10.0.0.0/8`.
    fn parse(cidr: &str) -> Option<Self> {
        let (ip, bits) = cidr.trim().split_once('/')?;
        let bits: u32 = bits.parse().ok()?;
        let start = match address(ip)? {
            Ip::V4(a) if bits <= 32 => Ip::V4(a & u32::MAX.checked_shl(32 - bits).unwrap_or(0)),
            Ip::V6(a) if bits <= 128 => Ip::V6(a & u128::MAX.checked_shl(128 - bits).unwrap_or(0)),
            _ => return None,
        };
        Some(Self { start, bits })
    }

    /// Whether `ip` is in the network; an address of the other family
    /// never is, as in Trino.
    fn contains(self, ip: Ip) -> bool {
        match (self.start, ip) {
            (Ip::V4(start), Ip::V4(a)) => {
                a & u32::MAX.checked_shl(32 - self.bits).unwrap_or(0) == start
            }
            (Ip::V6(start), Ip::V6(a)) => {
                a & u128::MAX.checked_shl(128 - self.bits).unwrap_or(0) == start
            }
            _ => false,
        }
    }
}

/// Whether `text` is written as a CIDR network, so that `contains(text,
/// address)` is a range test even with the address left as text.
pub(crate) fn is_network(text: &str) -> bool {
    Network::parse(text).is_some()
}

fn contains(networks: &ArrayRef, addresses: &ArrayRef) -> Result<ArrayRef> {
    let mut out = BooleanBuilder::new();
    // The network is nearly always one literal: parsed once, not per row.
    let mut last: Option<(&str, Network)> = None;
    for (cidr, ip) in networks
        .as_string::<i32>()
        .iter()
        .zip(addresses.as_string::<i32>())
    {
        let (Some(cidr), Some(ip)) = (cidr, ip) else {
            out.append_null();
            continue;
        };
        let network = match last {
            Some((text, network)) if text == cidr => network,
            _ => {
                let Some(network) = Network::parse(cidr) else {
                    return exec_err!(
                        "contains: '{cidr:.80}' is not a CIDR network (write it as 10.0.0.0/8 or 2001:db8::/32)"
                    );
                };
                last = Some((cidr, network));
                network
            }
        };
        let Some(ip) = address(ip) else {
            return exec_err!(
                "contains: '{ip:.80}' is not an IP address (wrap it in try_cast(... AS IPADDRESS) to pass over service names)"
            );
        };
        out.append_value(network.contains(ip));
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inside(cidr: &str, ip: &str) -> bool {
        Network::parse(cidr).unwrap().contains(address(ip).unwrap())
    }

    #[test]
    fn ranges_of_both_families() {
        assert!(inside("10.0.0.0/8", "10.255.255.255"));
        assert!(!inside("10.0.0.0/8", "11.0.0.0"));
        assert!(inside("203.0.113.64/26", "203.0.113.127"));
        assert!(!inside("203.0.113.64/26", "203.0.113.128"));
        assert!(inside("192.168.1.77/24", "192.168.1.1"));
        assert!(inside("0.0.0.0/0", "8.8.8.8"));
        assert!(inside("10.1.2.3/32", "10.1.2.3"));
        assert!(!inside("10.1.2.3/32", "10.1.2.4"));
        assert!(inside("2001:db8::/32", "2001:DB8:0:0:0:0:0:1"));
        assert!(inside("::/0", "2001:db8::1"));
        assert!(inside("2001:db8::1/128", "2001:db8::1"));
        // The families never mix; a mapped address is IPv4.
        assert!(!inside("0.0.0.0/0", "2001:db8::1"));
        assert!(!inside("::/0", "8.8.8.8"));
        assert!(inside("10.1.2.3/32", "::ffff:10.1.2.3"));
        assert!(inside("::ffff:7f00:1/32", "127.0.0.1"));
        assert!(!inside("::ffff:7f00:1/32", "127.0.0.0"));
        for invalid in [
            "10.0.0.0/33",
            "10.0.0.0",
            "::ffff:0:0/96",
            "ec2.amazonaws.com/8",
        ] {
            assert!(Network::parse(invalid).is_none(), "{invalid}");
        }
    }

    #[test]
    fn canonical_text() {
        assert_eq!(text(address("::ffff:10.0.0.1").unwrap()), "10.0.0.1");
        assert_eq!(text(address(" 2001:0db8::0001 ").unwrap()), "2001:db8::1");
        assert_eq!(address("AWS Internal"), None);
    }
}
