//! Trino's IP address type as far as hunts use it: `CAST(x AS IPADDRESS)`,
//! `IPADDRESS '…'` and `contains(network, address)`, the test of whether
//! `sourceIPAddress` lies in a CIDR range.
//!
//! The lake has no IP type, so an address is its canonical text (`::ffff:
//! 10.0.0.1` is `10.0.0.1`, IPv6 in its shortest form): equal addresses
//! compare equal, though they sort as text.

use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, BooleanBuilder, StringBuilder};
use arrow::datatypes::DataType;
use datafusion::error::{DataFusionError, Result};
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
            ScalarUDF::from(Ip {
                name,
                signature: Signature::user_defined(Volatility::Immutable),
            })
        })
        .collect()
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Ip {
    name: &'static str,
    signature: Signature,
}

impl ScalarUDFImpl for Ip {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let wanted = if self.name == CONTAINS { 2 } else { 1 };
        if arg_types.len() != wanted {
            return Err(DataFusionError::Plan(format!(
                "{}: wrong number of arguments ({})",
                self.name,
                arg_types.len()
            )));
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

/// An address as Trino holds it: IPv4 as its IPv4-mapped IPv6 form, so
/// one range test serves both families.
fn address(text: &str) -> Option<u128> {
    let ip: IpAddr = text.trim().parse().ok()?;
    Some(match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    })
}

fn text(address: u128) -> String {
    let v6 = Ipv6Addr::from(address);
    match v6.to_ipv4_mapped() {
        Some(v4) => v4.to_string(),
        None => v6.to_string(),
    }
}

fn canonical(texts: &ArrayRef, lenient: bool) -> Result<ArrayRef> {
    let mut out = StringBuilder::new();
    for value in texts.as_string::<i32>() {
        match value.map(|v| (v, address(v))) {
            None => out.append_null(),
            Some((_, Some(a))) => out.append_value(text(a)),
            Some((_, None)) if lenient => out.append_null(),
            Some((v, None)) => {
                return Err(DataFusionError::Execution(format!(
                    "cannot cast '{v:.80}' to IPADDRESS: not an IP address (try_cast or try(...) gives NULL instead)"
                )));
            }
        }
    }
    Ok(Arc::new(out.finish()))
}

/// A CIDR network (`10.0.0.0/8`, `2001:db8::/32`) as the first address and
/// the mask of its prefix, both in the mapped form of [`address`].
fn network(cidr: &str) -> Result<(u128, u128)> {
    let invalid = || {
        DataFusionError::Execution(format!(
            "contains: '{cidr:.80}' is not a CIDR network (write it as 10.0.0.0/8 or 2001:db8::/32)"
        ))
    };
    let (ip, bits) = cidr.trim().split_once('/').ok_or_else(invalid)?;
    let bits: u32 = bits.parse().map_err(|_| invalid())?;
    let start: IpAddr = ip.parse().map_err(|_| invalid())?;
    let (start, bits) = match start {
        IpAddr::V4(v4) if bits <= 32 => (u128::from(v4.to_ipv6_mapped()), bits + 96),
        IpAddr::V6(v6) if bits <= 128 => (u128::from(v6), bits),
        _ => return Err(invalid()),
    };
    let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
    Ok((start & mask, mask))
}

/// Whether `text` is written as a CIDR network, so that `contains(text,
/// address)` is a range test even with the address left as text.
pub(crate) fn is_network(text: &str) -> bool {
    network(text).is_ok()
}

fn contains(networks: &ArrayRef, addresses: &ArrayRef) -> Result<ArrayRef> {
    let mut out = BooleanBuilder::new();
    for (cidr, ip) in networks
        .as_string::<i32>()
        .iter()
        .zip(addresses.as_string::<i32>())
    {
        let (Some(cidr), Some(ip)) = (cidr, ip) else {
            out.append_null();
            continue;
        };
        let (start, mask) = network(cidr)?;
        let ip = address(ip).ok_or_else(|| {
            DataFusionError::Execution(format!(
                "contains: '{ip:.80}' is not an IP address (wrap it in try_cast(... AS IPADDRESS) to pass over service names)"
            ))
        })?;
        out.append_value(ip & mask == start);
    }
    Ok(Arc::new(out.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inside(cidr: &str, ip: &str) -> bool {
        let (start, mask) = network(cidr).unwrap();
        address(ip).unwrap() & mask == start
    }

    #[test]
    fn ranges_of_both_families() {
        assert!(inside("10.0.0.0/8", "10.255.255.255"));
        assert!(!inside("10.0.0.0/8", "11.0.0.0"));
        assert!(inside("203.0.113.64/26", "203.0.113.127"));
        assert!(!inside("203.0.113.64/26", "203.0.113.128"));
        // Host bits in the network are ignored, as Trino ignores them.
        assert!(inside("192.168.1.77/24", "192.168.1.1"));
        assert!(inside("0.0.0.0/0", "8.8.8.8"));
        assert!(!inside("0.0.0.0/0", "2001:db8::1"));
        assert!(inside("::/0", "8.8.8.8"));
        assert!(inside("2001:db8::/32", "2001:DB8:0:0:0:0:0:1"));
        assert!(inside("10.1.2.3/32", "::ffff:10.1.2.3"));
        assert!(network("10.0.0.0/33").is_err());
        assert!(network("10.0.0.0").is_err());
        assert!(network("ec2.amazonaws.com/8").is_err());
    }

    #[test]
    fn canonical_text() {
        assert_eq!(text(address("::ffff:10.0.0.1").unwrap()), "10.0.0.1");
        assert_eq!(text(address(" 2001:0db8::0001 ").unwrap()), "2001:db8::1");
        assert_eq!(address("AWS Internal"), None);
    }
}
