//! Exact parsing of Kubernetes resource quantities.
//!
//! The grammar is the one of `k8s.io/apimachinery/pkg/api/resource`:
//!
//! ```text
//! quantity        ::= signedNumber suffix
//! signedNumber    ::= number | "+" number | "-" number
//! number          ::= digits | digits "." digits | digits "." | "." digits
//! suffix          ::= binarySI | decimalSI | decimalExponent
//! binarySI        ::= "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei"
//! decimalSI       ::= "n" | "u" | "m" | "" | "k" | "M" | "G" | "T" | "P" | "E"
//! decimalExponent ::= ("e" | "E") signedNumber   (an integer exponent)
//! ```
//!
//! Values are computed exactly with integer arithmetic (no floating point) and rounded **up**
//! to the target unit, as `Quantity.Value()` and `Quantity.MilliValue()` do in Go.

use std::fmt;

/// Why a quantity string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// The string is empty.
    #[error("empty quantity")]
    Empty,
    /// The numeric part is missing or malformed.
    #[error("malformed number in {0:?}")]
    BadNumber(String),
    /// The suffix is not one of the Kubernetes suffixes.
    #[error(
        "unknown suffix {suffix:?} in {input:?} (expected one of n u m k M G T P E Ki Mi Gi Ti Pi Ei or an exponent such as e3)"
    )]
    BadSuffix {
        /// The whole input.
        input: String,
        /// The offending suffix.
        suffix: String,
    },
    /// Resource amounts cannot be negative.
    #[error("negative quantity {0:?}")]
    Negative(String),
    /// The value does not fit into 64 bits in the target unit.
    #[error("quantity {0:?} is out of range")]
    OutOfRange(String),
}

/// The unit a quantity is converted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Thousandths of the base unit (CPU millicores).
    Milli,
    /// The base unit (bytes, pod slots, devices).
    Base,
}

/// Parses a Kubernetes quantity into an integer amount of `unit`, rounding up.
///
/// # Examples
/// ```
/// use compactor_core::quantity::{parse, Unit};
/// assert_eq!(parse("100m", Unit::Milli), Ok(100));
/// assert_eq!(parse("1.5", Unit::Milli), Ok(1500));
/// assert_eq!(parse("1.5Gi", Unit::Base), Ok(1_610_612_736));
/// assert_eq!(parse("2e3", Unit::Base), Ok(2000));
/// assert_eq!(parse("128974848n", Unit::Milli), Ok(129)); // rounded up
/// assert!(parse("1.5.3", Unit::Base).is_err());
/// ```
///
/// # Errors
/// [`QuantityError`] for an empty or malformed string, an unknown suffix, a negative value
/// (other than zero) or a value that does not fit in a `u64` of the target unit.
///
/// # Complexity
/// O(len) time, no allocation on success.
pub fn parse(input: &str, unit: Unit) -> Result<u64, QuantityError> {
    let parsed = Parsed::new(input)?;
    if parsed.negative && parsed.digits != 0 {
        return Err(QuantityError::Negative(input.to_owned()));
    }
    let pow10 = parsed.pow10 + if unit == Unit::Milli { 3 } else { 0 };
    scale(parsed.digits, pow10, parsed.pow2)
        .ok_or_else(|| QuantityError::OutOfRange(input.to_owned()))
}

/// A parsed quantity: `digits × 10^pow10 × 2^pow2`, with a sign.
struct Parsed {
    negative: bool,
    digits: u128,
    pow10: i64,
    pow2: u32,
}

impl Parsed {
    fn new(input: &str) -> Result<Self, QuantityError> {
        if input.is_empty() {
            return Err(QuantityError::Empty);
        }
        let bad_number = || QuantityError::BadNumber(input.to_owned());
        let bytes = input.as_bytes();
        let mut pos = 0;
        let mut negative = false;
        if matches!(bytes[0], b'+' | b'-') {
            negative = bytes[0] == b'-';
            pos = 1;
        }
        let mut digits: u128 = 0;
        let mut pow10: i64 = 0;
        let mut seen_digit = false;
        let mut seen_dot = false;
        while pos < bytes.len() {
            let b = bytes[pos];
            if b.is_ascii_digit() {
                seen_digit = true;
                let d = u128::from(b - b'0');
                match digits.checked_mul(10).and_then(|v| v.checked_add(d)) {
                    Some(v) => {
                        digits = v;
                        if seen_dot {
                            pow10 -= 1;
                        }
                    }
                    // Too many significant digits: drop this one (it only matters for
                    // rounding) and account for its position.
                    None => {
                        if !seen_dot {
                            pow10 += 1;
                        }
                        if d != 0 {
                            // Keep the rounding-up semantics exact enough: a dropped non-zero
                            // digit means the true value is larger than what we hold.
                            return Err(QuantityError::OutOfRange(input.to_owned()));
                        }
                    }
                }
            } else if b == b'.' && !seen_dot {
                seen_dot = true;
            } else {
                break;
            }
            pos += 1;
        }
        if !seen_digit {
            return Err(bad_number());
        }
        let suffix = &input[pos..];
        let (s10, s2) = suffix_powers(input, suffix)?;
        Ok(Self {
            negative,
            digits,
            pow10: pow10 + s10,
            pow2: s2,
        })
    }
}

/// Powers of ten and two that a suffix stands for.
fn suffix_powers(input: &str, suffix: &str) -> Result<(i64, u32), QuantityError> {
    let powers = match suffix {
        "" => (0, 0),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        _ => {
            let bad = || QuantityError::BadSuffix {
                input: input.to_owned(),
                suffix: suffix.to_owned(),
            };
            let rest = suffix.strip_prefix(['e', 'E']).ok_or_else(bad)?;
            let digits = rest.strip_prefix(['+', '-']).unwrap_or(rest);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            // Exponents beyond a few hundred can only overflow or round to the smallest unit;
            // clamp so the arithmetic stays in range.
            let exp: i64 =
                rest.parse::<i64>()
                    .unwrap_or(if rest.starts_with('-') { -1000 } else { 1000 });
            (exp.clamp(-1000, 1000), 0)
        }
    };
    Ok(powers)
}

/// Computes `ceil(digits × 10^pow10 × 2^pow2)` if it fits in a `u64`.
fn scale(mut digits: u128, mut pow10: i64, pow2: u32) -> Option<u64> {
    if digits == 0 {
        return Some(0);
    }
    // Normalise: trailing zeros move into the exponent, which keeps the numbers small.
    while digits.is_multiple_of(10) {
        digits /= 10;
        pow10 += 1;
    }
    let num = digits.checked_mul(1u128.checked_shl(pow2)?)?;
    let value = if pow10 >= 0 {
        let factor = 10u128.checked_pow(u32::try_from(pow10).ok()?)?;
        num.checked_mul(factor)?
    } else {
        match 10u128.checked_pow(u32::try_from(-pow10).ok()?) {
            Some(den) => num.div_ceil(den),
            // The denominator exceeds u128 and so exceeds num: 0 < value < 1, rounded up.
            None => 1,
        }
    };
    u64::try_from(value).ok()
}

/// Formats an amount in `unit` as a canonical Kubernetes quantity string.
///
/// Milli amounts that are whole units print without a suffix (`2000` → `"2"`), others with `m`
/// (`1500` → `"1500m"`); base amounts print as plain integers. [`parse`] reads the result back
/// to the same number.
///
/// # Examples
/// ```
/// use compactor_core::quantity::{format, parse, Unit};
/// assert_eq!(format(1500, Unit::Milli), "1500m");
/// assert_eq!(format(2000, Unit::Milli), "2");
/// assert_eq!(parse(&format(123, Unit::Milli), Unit::Milli), Ok(123));
/// ```
///
/// # Complexity
/// O(1).
pub fn format(amount: u64, unit: Unit) -> String {
    match unit {
        Unit::Milli if amount.is_multiple_of(1000) => (amount / 1000).to_string(),
        Unit::Milli => format!("{amount}m"),
        Unit::Base => amount.to_string(),
    }
}

/// Human-friendly rendering of an amount for tables: `1.5 CPU`, `3.2 GiB`, `110`.
#[derive(Debug, Clone, Copy)]
pub struct Human {
    /// The amount in the resource's canonical unit.
    pub amount: u64,
    /// How to render it.
    pub kind: HumanKind,
}

/// What a [`Human`] amount measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HumanKind {
    /// CPU millicores.
    Millicores,
    /// Bytes.
    Bytes,
    /// A plain count.
    Count,
}

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            HumanKind::Millicores if self.amount < 1000 => write!(f, "{}m", self.amount),
            HumanKind::Millicores => write!(f, "{:.2} CPU", self.amount as f64 / 1000.0),
            HumanKind::Bytes => {
                const GIB: f64 = (1u64 << 30) as f64;
                const MIB: f64 = (1u64 << 20) as f64;
                let b = self.amount as f64;
                if b >= GIB {
                    write!(f, "{:.1} GiB", b / GIB)
                } else {
                    write!(f, "{:.0} MiB", b / MIB)
                }
            }
            HumanKind::Count => write!(f, "{}", self.amount),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(s: &str) -> Result<u64, QuantityError> {
        parse(s, Unit::Base)
    }
    fn milli(s: &str) -> Result<u64, QuantityError> {
        parse(s, Unit::Milli)
    }

    #[test]
    fn decimal_si_suffixes() {
        assert_eq!(base("1"), Ok(1));
        assert_eq!(base("1k"), Ok(1_000));
        assert_eq!(base("1M"), Ok(1_000_000));
        assert_eq!(base("1G"), Ok(1_000_000_000));
        assert_eq!(base("1T"), Ok(1_000_000_000_000));
        assert_eq!(base("1P"), Ok(1_000_000_000_000_000));
        assert_eq!(base("1E"), Ok(1_000_000_000_000_000_000));
        assert_eq!(milli("1m"), Ok(1));
        assert_eq!(milli("1500u"), Ok(2)); // 1.5m rounds up
        assert_eq!(milli("1000000n"), Ok(1));
        assert_eq!(milli("128974848n"), Ok(129));
        assert_eq!(base("500m"), Ok(1)); // Value() rounds up
        assert_eq!(base("0m"), Ok(0));
    }

    #[test]
    fn binary_si_suffixes() {
        assert_eq!(base("1Ki"), Ok(1024));
        assert_eq!(base("1Mi"), Ok(1 << 20));
        assert_eq!(base("1Gi"), Ok(1 << 30));
        assert_eq!(base("1Ti"), Ok(1 << 40));
        assert_eq!(base("1Pi"), Ok(1 << 50));
        assert_eq!(base("1Ei"), Ok(1 << 60));
        assert_eq!(base("1.5Gi"), Ok(1_610_612_736));
        assert_eq!(base("0.5Ki"), Ok(512));
        assert_eq!(base("0.001Ki"), Ok(2)); // 1.024 rounds up
        assert_eq!(milli("0.5Ki"), Ok(512_000));
    }

    #[test]
    fn exponents_and_fractions() {
        assert_eq!(base("2e3"), Ok(2000));
        assert_eq!(base("2E3"), Ok(2000));
        assert_eq!(base("2e+3"), Ok(2000));
        assert_eq!(milli("2e-3"), Ok(2));
        assert_eq!(base("1.5e1"), Ok(15));
        assert_eq!(milli(".5"), Ok(500));
        assert_eq!(milli("5."), Ok(5000));
        assert_eq!(milli("+1"), Ok(1000));
        assert_eq!(milli("0.0001"), Ok(1));
        assert_eq!(milli("1e-1000"), Ok(1));
        assert_eq!(base("-0"), Ok(0));
        assert_eq!(base("007"), Ok(7));
        assert_eq!(
            base("1.000000000000000000000000000000000000000000000000"),
            Ok(1)
        );
    }

    #[test]
    fn errors() {
        assert_eq!(base(""), Err(QuantityError::Empty));
        assert!(matches!(base("."), Err(QuantityError::BadNumber(_))));
        assert!(matches!(base("Ki"), Err(QuantityError::BadNumber(_))));
        assert!(matches!(base("+"), Err(QuantityError::BadNumber(_))));
        assert!(matches!(
            base("1.5.3"),
            Err(QuantityError::BadSuffix { .. })
        ));
        assert!(matches!(base("1KB"), Err(QuantityError::BadSuffix { .. })));
        assert!(matches!(base("1ki"), Err(QuantityError::BadSuffix { .. })));
        assert!(matches!(base("1 Gi"), Err(QuantityError::BadSuffix { .. })));
        assert!(matches!(base("1e"), Err(QuantityError::BadSuffix { .. })));
        assert!(matches!(
            base("1e1.5"),
            Err(QuantityError::BadSuffix { .. })
        ));
        assert!(matches!(base("1Gi "), Err(QuantityError::BadSuffix { .. })));
        assert!(matches!(base("-1"), Err(QuantityError::Negative(_))));
        assert!(matches!(base("-100m"), Err(QuantityError::Negative(_))));
        assert!(matches!(base("16Ei"), Err(QuantityError::OutOfRange(_))));
        assert!(matches!(base("1e20"), Err(QuantityError::OutOfRange(_))));
        assert!(matches!(milli("1e17"), Err(QuantityError::OutOfRange(_))));
        assert!(matches!(
            base("1e1000000000000"),
            Err(QuantityError::OutOfRange(_))
        ));
        assert!(matches!(
            base("99999999999999999999999999999999999999999"),
            Err(QuantityError::OutOfRange(_))
        ));
    }

    #[test]
    fn boundaries() {
        assert_eq!(base("18446744073709551615"), Ok(u64::MAX));
        assert!(matches!(
            base("18446744073709551616"),
            Err(QuantityError::OutOfRange(_))
        ));
        assert_eq!(base("15Ei"), Ok(15 << 60));
    }

    #[test]
    fn format_round_trips() {
        for v in [0, 1, 999, 1000, 1500, 123_456_789] {
            assert_eq!(milli(&format(v, Unit::Milli)), Ok(v));
            assert_eq!(base(&format(v, Unit::Base)), Ok(v));
        }
    }

    #[test]
    fn human() {
        let h = |amount, kind| Human { amount, kind }.to_string();
        assert_eq!(h(250, HumanKind::Millicores), "250m");
        assert_eq!(h(1500, HumanKind::Millicores), "1.50 CPU");
        assert_eq!(h(3 << 29, HumanKind::Bytes), "1.5 GiB");
        assert_eq!(h(512 << 20, HumanKind::Bytes), "512 MiB");
        assert_eq!(h(110, HumanKind::Count), "110");
    }
}
