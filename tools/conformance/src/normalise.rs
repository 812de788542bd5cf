//! Normalisation of cells into comparable value lists.
//!
//! A cell holds every occurrence of a field in one frame, joined with `,` (outer layer
//! first). It is split into values, each tshark value is rewritten into pcapkit's format
//! ([`Norm`]), then the field's [`Filter`] drops values that are not comparable.
//! pcapkit values are compared as printed: a formatting slip is a real difference.

use crate::mapping::{FieldMap, Filter, Norm};

/// Splits a cell into its values; an empty cell has none.
pub fn split_cell(cell: &str) -> Vec<&str> {
    if cell.is_empty() {
        Vec::new()
    } else {
        cell.split(',').collect()
    }
}

/// Rewrites one tshark value into pcapkit's format. A value that does not parse as the
/// normalisation expects is returned unchanged, so that it shows up as a difference.
pub fn normalise_value(raw: &str, norm: Norm) -> String {
    let converted = match norm {
        Norm::AsIs => None,
        Norm::HexToDec => hex_to_dec(raw),
        Norm::Bool => bool_to_digit(raw),
        Norm::Divide(factor) => divide(raw, factor),
        Norm::Multiply(factor) => multiply(raw, factor),
    };
    converted.unwrap_or_else(|| raw.to_string())
}

/// `0x00f2` → `242`; a plain decimal is kept as it is.
fn hex_to_dec(raw: &str) -> Option<String> {
    let digits = raw.strip_prefix("0x").or_else(|| raw.strip_prefix("0X"))?;
    u64::from_str_radix(digits, 16).ok().map(|v| v.to_string())
}

/// `True`/`1` → `1`, `False`/`0` → `0`.
fn bool_to_digit(raw: &str) -> Option<String> {
    match raw {
        "1" | "True" | "true" => Some("1".into()),
        "0" | "False" | "false" => Some("0".into()),
        _ => None,
    }
}

/// Exact integer division; a remainder leaves the value unchanged.
fn divide(raw: &str, factor: u64) -> Option<String> {
    let value: u64 = raw.parse().ok()?;
    (value.checked_rem(factor) == Some(0)).then(|| (value / factor).to_string())
}

/// Integer multiplication.
fn multiply(raw: &str, factor: u64) -> Option<String> {
    let value: u64 = raw.parse().ok()?;
    value.checked_mul(factor).map(|v| v.to_string())
}

/// The comparable values of a tshark cell for this field.
pub fn tshark_values(cell: &str, field: &FieldMap) -> Vec<String> {
    split_cell(cell)
        .into_iter()
        .map(|raw| normalise_value(raw, field.norm))
        .filter(|value| match field.filter {
            Filter::DropTshark(dropped) => value != dropped,
            _ => true,
        })
        .collect()
}

/// The comparable values of a pcapkit cell for this field.
pub fn pcapkit_values(cell: &str, field: &FieldMap) -> Vec<String> {
    split_cell(cell)
        .into_iter()
        .filter(|value| match field.filter {
            Filter::DropPcapkitAtMost(bound) => !value.parse::<u64>().is_ok_and(|v| v <= bound),
            _ => true,
        })
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::by_pcapkit_path;

    fn field(path: &str) -> &'static FieldMap {
        by_pcapkit_path(path).expect("mapped field")
    }

    #[test]
    fn split_empty_and_multi() {
        assert!(split_cell("").is_empty());
        assert_eq!(split_cell("7"), vec!["7"]);
        assert_eq!(split_cell("7,5"), vec!["7", "5"]);
    }

    #[test]
    fn hex_values_become_decimal() {
        assert_eq!(normalise_value("0x0800", Norm::HexToDec), "2048");
        assert_eq!(normalise_value("0x00f2", Norm::HexToDec), "242");
        assert_eq!(normalise_value("0x0111", Norm::HexToDec), "273");
        assert_eq!(normalise_value("0xf88eb466", Norm::HexToDec), "4170101862");
        assert_eq!(normalise_value("12", Norm::HexToDec), "12");
        assert_eq!(normalise_value("0xzz", Norm::HexToDec), "0xzz");
    }

    #[test]
    fn booleans_become_digits() {
        assert_eq!(normalise_value("1", Norm::Bool), "1");
        assert_eq!(normalise_value("True", Norm::Bool), "1");
        assert_eq!(normalise_value("False", Norm::Bool), "0");
        assert_eq!(normalise_value("yes", Norm::Bool), "yes");
    }

    #[test]
    fn scaling() {
        assert_eq!(normalise_value("20", Norm::Divide(4)), "5");
        assert_eq!(normalise_value("60", Norm::Divide(4)), "15");
        assert_eq!(normalise_value("22", Norm::Divide(4)), "22");
        assert_eq!(normalise_value("185", Norm::Multiply(8)), "1480");
        assert_eq!(normalise_value("x", Norm::Multiply(8)), "x");
    }

    #[test]
    fn every_value_of_a_multi_cell_is_normalised() {
        assert_eq!(
            tshark_values("0x8100,0x0800", field("vlan.type")),
            vec!["33024", "2048"]
        );
        assert_eq!(tshark_values("20,24", field("ipv4.ihl")), vec!["5", "6"]);
        assert!(tshark_values("", field("ipv4.ihl")).is_empty());
    }

    #[test]
    fn ipv6_version_is_not_an_ipv4_version() {
        let f = field("ipv4.version");
        assert!(tshark_values("6", f).is_empty());
        assert_eq!(tshark_values("4,6", f), vec!["4"]);
        assert_eq!(tshark_values("6,4", f), vec!["4"]);
    }

    #[test]
    fn ieee_802_3_length_is_not_an_ethertype() {
        let f = field("ethernet.type");
        assert!(pcapkit_values("46", f).is_empty());
        assert!(pcapkit_values("1500", f).is_empty());
        assert_eq!(pcapkit_values("1536", f), vec!["1536"]);
        assert_eq!(
            pcapkit_values("33024,46", field("vlan.type")),
            vec!["33024"]
        );
    }

    #[test]
    fn pcapkit_values_are_not_rewritten() {
        assert_eq!(
            pcapkit_values("0x0800", field("ethernet.type")),
            vec!["0x0800"]
        );
        assert_eq!(pcapkit_values("True", field("ipv4.df")), vec!["True"]);
    }
}
