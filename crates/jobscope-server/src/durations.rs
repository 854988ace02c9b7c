//! The one syntax of every duration flag of `jobscope serve`: a number (decimals allowed)
//! followed by `ms`, `s`, `m` (or `min`) or `h`; a bare number is seconds.

use std::time::Duration;

/// Parses a duration: `250ms`, `1.5s`, `30`, `3m`, `3min`, `1h`. Zero is allowed.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let invalid = || format!("`{text}` is not a duration (for example 500ms, 30s, 1.5m or 1h)");
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let seconds_per_unit = match unit.trim() {
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => return Err(invalid()),
    };
    // Digits with at most one point, and at least one digit: no sign, exponent or "inf".
    if !number.bytes().any(|b| b.is_ascii_digit()) || number.matches('.').count() > 1 {
        return Err(invalid());
    }
    let n: f64 = number.parse().map_err(|_| invalid())?;
    Duration::try_from_secs_f64(n * seconds_per_unit).map_err(|_| invalid())
}

/// [`parse_duration`] for settings where zero makes no sense.
pub fn parse_positive_duration(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d.is_zero() {
        return Err(format!("`{}` must be longer than zero", text.trim()));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        for (text, want) in [
            ("250ms", Duration::from_millis(250)),
            ("30", Duration::from_secs(30)),
            ("30s", Duration::from_secs(30)),
            (" 30s ", Duration::from_secs(30)),
            ("1.5", Duration::from_millis(1500)),
            ("3m", Duration::from_secs(180)),
            ("3min", Duration::from_secs(180)),
            ("1.5h", Duration::from_secs(5400)),
            ("1h", Duration::from_secs(3600)),
            ("0s", Duration::ZERO),
        ] {
            assert_eq!(parse_duration(text), Ok(want), "{text}");
        }
        for bad in [
            "",
            "h",
            ".s",
            "1..5s",
            "-1s",
            "+1s",
            "1e400",
            "inf",
            "3 weeks",
            "10d",
            "99999999999999999999h",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
        assert!(parse_positive_duration("0s").is_err());
        assert!(parse_positive_duration("0.0001ms").is_ok());
    }
}
