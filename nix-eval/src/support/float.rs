//! Float formatting exactly as CppNix 2.8 prints floats.
//!
//! CppNix prints floats in two ways:
//!
//! * `nix-instantiate --eval`, `toJSON` and `toXML` write a `double` to a C++ `std::ostream`
//!   with the default precision of 6, which is `printf("%g")`: six significant digits,
//!   trailing zeros removed, scientific notation when the decimal exponent is below -4 or at
//!   least 6 ([`format_g`]).
//! * `toString` and string interpolation use `std::to_string`, which is `printf("%f")`: six
//!   digits after the point, never scientific ([`format_f`]).
//!
//! Infinities and NaNs print as glibc does: `inf`, `-inf`, `nan`, `-nan` (the sign bit of a
//! NaN is kept, and `inf - inf` on x86-64 yields a negative NaN, printed `-nan`).
//!
//! Both functions are built on Rust's correctly rounded decimal conversion (ties to even on
//! the exact binary value), which is what glibc does too.

/// Formats `x` like C's `printf("%g", x)` (C++ `std::ostream << x` with default precision).
///
/// # Example
/// ```
/// use nix_eval::support::float::format_g;
/// assert_eq!(format_g(1.0), "1");
/// assert_eq!(format_g(0.1 + 0.2), "0.3");
/// assert_eq!(format_g(123456789.0), "1.23457e+08");
/// assert_eq!(format_g(1e-5), "1e-05");
/// assert_eq!(format_g(-0.0), "-0");
/// ```
pub fn format_g(x: f64) -> String {
    format_g_precision(x, 6)
}

/// Formats `x` like C's `printf("%.*g", precision, x)`; a precision of 0 counts as 1.
///
/// # Example
/// ```
/// use nix_eval::support::float::format_g_precision;
/// assert_eq!(format_g_precision(2.46913, 3), "2.47");
/// ```
pub fn format_g_precision(x: f64, precision: usize) -> String {
    if let Some(s) = non_finite(x) {
        return s;
    }
    let p = precision.max(1);
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    // The exponent that `%e` with p-1 digits would print (after rounding).
    let sci = format!("{:.*e}", p - 1, x);
    let (mantissa, exp) = sci
        .split_once('e')
        .expect("Rust's {:e} output always contains an 'e'");
    let exp: i64 = exp
        .parse()
        .expect("Rust's {:e} exponent is always a decimal integer");
    let p_i = i64::try_from(p).unwrap_or(i64::MAX);
    if exp < -4 || exp >= p_i {
        let mantissa = strip_fraction_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
    } else {
        let digits = usize::try_from(p_i - 1 - exp).expect("p - 1 - exp is in 0..=p+3 here");
        strip_fraction_zeros(&format!("{x:.digits$}")).to_string()
    }
}

/// Formats `x` like C's `printf("%f", x)` (C++ `std::to_string(double)`): six digits after
/// the decimal point, no exponent.
///
/// # Example
/// ```
/// use nix_eval::support::float::format_f;
/// assert_eq!(format_f(1.0), "1.000000");
/// assert_eq!(format_f(1e20), "100000000000000000000.000000");
/// assert_eq!(format_f(-0.0), "-0.000000");
/// ```
pub fn format_f(x: f64) -> String {
    if let Some(s) = non_finite(x) {
        return s;
    }
    format!("{x:.6}")
}

fn non_finite(x: f64) -> Option<String> {
    let s = if x.is_nan() {
        if x.is_sign_negative() {
            "-nan"
        } else {
            "nan"
        }
    } else if x.is_infinite() {
        if x < 0.0 {
            "-inf"
        } else {
            "inf"
        }
    } else {
        return None;
    };
    Some(s.to_string())
}

/// Removes trailing zeros after a decimal point, and the point itself if nothing follows.
fn strip_fraction_zeros(s: &str) -> &str {
    if !s.contains('.') {
        return s;
    }
    let s = s.trim_end_matches('0');
    s.strip_suffix('.').unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Outputs observed with `nix-instantiate --eval` (CppNix 2.8) and glibc `printf("%g")`.
    #[test]
    fn g_matches_cppnix() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1"),
            (0.1 + 0.2, "0.3"),
            (123456789.0, "1.23457e+08"),
            (1e-5, "1e-05"),
            (1e6, "1e+06"),
            (100000.0, "100000"),
            (999999.0, "999999"),
            (999999.5, "1e+06"),
            (0.0001, "0.0001"),
            (0.00001234567, "1.23457e-05"),
            (1e300, "1e+300"),
            (5e-324, "4.94066e-324"),
            (1.5, "1.5"),
            (-2.25, "-2.25"),
            (0.0, "0"),
            (-0.0, "-0"),
            (3.0e-4, "0.0003"),
            (123456.7, "123457"),
            (12345.67, "12345.7"),
            (2.5, "2.5"),
            (0.5, "0.5"),
            (1.0 / 3.0, "0.333333"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (-f64::NAN, "-nan"),
            (f64::NAN.copysign(1.0), "nan"),
            (123456789.123, "1.23457e+08"),
        ];
        for &(x, want) in cases {
            assert_eq!(format_g(x), want, "format_g({x:?})");
        }
    }

    /// Outputs observed with `builtins.toString` (CppNix 2.8) and glibc `printf("%f")`.
    #[test]
    fn f_matches_cppnix() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1.000000"),
            (1e20, "100000000000000000000.000000"),
            (2.5, "2.500000"),
            (0.0000001, "0.000000"),
            (-0.0, "-0.000000"),
            (0.0000005, "0.000000"),
            (0.0000015, "0.000002"),
            (-1.5, "-1.500000"),
            (f64::INFINITY, "inf"),
            (-f64::NAN, "-nan"),
            (0.1 + 0.2, "0.300000"),
        ];
        for &(x, want) in cases {
            assert_eq!(format_f(x), want, "format_f({x:?})");
        }
    }

    #[test]
    fn g_precision() {
        assert_eq!(format_g_precision(2.46913, 0), "2");
        assert_eq!(format_g_precision(2.46913, 1), "2");
        assert_eq!(format_g_precision(1234.0, 2), "1.2e+03");
        assert_eq!(format_g_precision(0.1, 17), "0.10000000000000001");
    }

    include!("float_printf_cases.rs");

    #[test]
    fn matches_printf_on_generated_values() {
        for &(x, g, f) in PRINTF_CASES {
            assert_eq!(format_g(x), g, "%g of {x:?}");
            if let Some(f) = f {
                assert_eq!(format_f(x), f, "%f of {x:?}");
            }
        }
    }

    proptest! {
        #[test]
        fn g_round_trips_to_six_digits(x in proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL) {
            let s = format_g(x);
            let back: f64 = s.parse().map_err(|e| TestCaseError::fail(format!("{s}: {e}")))?;
            let rounded: f64 = format!("{x:.5e}").parse().map_err(|e| TestCaseError::fail(format!("{e}")))?;
            prop_assert_eq!(back, rounded);
            // at most 6 significant digits, no trailing zeros in the fraction
            let mantissa = s.split('e').next().unwrap_or("");
            let digits = mantissa.chars().filter(char::is_ascii_digit).collect::<String>();
            prop_assert!(digits.trim_start_matches('0').len() <= 6, "{}", s);
            if mantissa.contains('.') {
                prop_assert!(!mantissa.ends_with('0') && !mantissa.ends_with('.'), "{}", s);
            }
        }

        #[test]
        fn f_has_six_fraction_digits(x in -1e30f64..1e30) {
            let s = format_f(x);
            let (_, frac) = s.split_once('.').ok_or_else(|| TestCaseError::fail(s.clone()))?;
            prop_assert_eq!(frac.len(), 6);
            let back: f64 = s.parse().map_err(|e| TestCaseError::fail(format!("{e}")))?;
            prop_assert!((back - x).abs() <= 5e-7 + x.abs() * 1e-15);
        }
    }
}
