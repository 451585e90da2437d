//! Checking and normalising what people type: mobile numbers and names.
//! Shared by browser and server so both give the same result.

/// Trims `value` and checks that it is 1 to `max` characters on one line,
/// naming `field` in the error otherwise.
pub fn one_line(
    field: &'static str,
    value: &str,
    max: usize,
) -> Result<String, crate::error::AppError> {
    let value = value.trim();
    let chars = value.chars().count();
    if chars == 0 || chars > max || value.chars().any(char::is_control) {
        return Err(crate::error::AppError::invalid(
            field,
            format!("must be 1 to {max} characters on one line"),
        ));
    }
    Ok(value.to_owned())
}

/// Checks an optional one-line value like [`one_line`]: absent, empty or
/// blank is `None`.
pub fn optional_one_line(
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, crate::error::AppError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => one_line(field, value, max).map(Some),
    }
}

/// Normalises a mainland mobile number to its 11 digits.
///
/// Accepts full-width digits, spaces, dashes, dots, parentheses and a
/// `+86`, `86` or `0086` country prefix, as people copy numbers from
/// contacts and chat apps. Returns `None` when what remains is not a
/// mobile number (11 digits starting with 1 and a second digit 3 to 9).
pub fn normalize_mobile(input: &str) -> Option<String> {
    let mut digits = String::with_capacity(16);
    let mut plus = false;
    for ch in input.trim().chars() {
        let ch = full_width_to_ascii(ch);
        match ch {
            '0'..='9' => digits.push(ch),
            '+' if digits.is_empty() && !plus => plus = true,
            ' ' | '-' | '.' | '(' | ')' | '\u{3000}' => {}
            _ => return None,
        }
    }
    let national = if plus {
        digits.strip_prefix("86")?
    } else if digits.len() == 15 {
        digits.strip_prefix("0086")?
    } else if digits.len() == 13 {
        digits.strip_prefix("86")?
    } else {
        digits.as_str()
    };
    let bytes = national.as_bytes();
    let valid = bytes.len() == 11 && bytes[0] == b'1' && (b'3'..=b'9').contains(&bytes[1]);
    valid.then(|| national.to_owned())
}

/// Maximum length of a display name, in characters. Ethnic-minority names
/// written in Chinese characters can exceed 20 characters.
pub const MAX_NAME_CHARS: usize = 40;

/// Normalises a person's display name: trims, collapses inner whitespace,
/// and turns the look-alike separators that input methods produce for the
/// middle dot in minority names (`•`, `・`, `．`, `‧`, `∙`, `⋅`) into U+00B7. Returns `None` for an empty
/// name, one longer than [`MAX_NAME_CHARS`], or one with control characters
/// or markup characters.
pub fn normalize_name(input: &str) -> Option<String> {
    let mut name = String::with_capacity(input.len());
    let mut pending_space = false;
    for ch in input.trim().chars() {
        if ch.is_whitespace() {
            pending_space = true;
            continue;
        }
        if ch.is_control() || matches!(ch, '<' | '>' | '"' | '\\' | '{' | '}') {
            return None;
        }
        let ch = match ch {
            '\u{2022}' | '\u{30FB}' | '\u{FF0E}' | '\u{2027}' | '\u{2219}' | '\u{22C5}'
            | '\u{FF65}' | '\u{0387}' | '\u{16EB}' | '\u{2E31}' => '\u{00B7}',
            other => other,
        };
        if pending_space && !name.is_empty() {
            // No space next to a middle dot: "阿依古丽 · 买买提" becomes one name.
            if ch != '\u{00B7}' && !name.ends_with('\u{00B7}') {
                name.push(' ');
            }
        }
        pending_space = false;
        name.push(ch);
    }
    let count = name.chars().count();
    (count > 0 && count <= MAX_NAME_CHARS).then_some(name)
}

fn full_width_to_ascii(ch: char) -> char {
    match ch {
        '\u{FF10}'..='\u{FF19}' => {
            char::from_u32(ch as u32 - 0xFF10 + u32::from(b'0')).unwrap_or(ch)
        }
        '\u{FF0B}' => '+',
        '\u{FF0D}' | '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
        '\u{FF08}' => '(',
        '\u{FF09}' => ')',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn one_line_trims_and_bounds() {
        assert_eq!(
            one_line("name", "  亲子室 ", 3).ok().as_deref(),
            Some("亲子室")
        );
        assert!(one_line("name", "   ", 3).is_err(), "empty");
        assert!(one_line("name", "亲子室甲", 3).is_err(), "too long");
        assert!(one_line("name", "亲子\n室", 5).is_err(), "two lines");
    }

    #[test]
    fn mobile_numbers_in_the_forms_people_type() {
        let cases = [
            ("13912345678", Some("13912345678")),
            ("139 1234 5678", Some("13912345678")),
            ("139-1234-5678", Some("13912345678")),
            ("+86 139 1234 5678", Some("13912345678")),
            ("+86-13912345678", Some("13912345678")),
            ("8613912345678", Some("13912345678")),
            ("008613912345678", Some("13912345678")),
            ("１３９１２３４５６７８", Some("13912345678")),
            ("＋８６ １３９－１２３４－５６７８", Some("13912345678")),
            ("(139) 1234 5678", Some("13912345678")),
            ("1391234567", None),
            ("139123456789", None),
            ("12912345678", None),
            ("23912345678", None),
            ("+1 139 1234 5678", None),
            ("1391234567a", None),
            ("", None),
            ("+", None),
            ("++8613912345678", None),
        ];
        for (input, expected) in cases {
            assert_eq!(
                normalize_mobile(input).as_deref(),
                expected,
                "input {input:?}"
            );
        }
    }

    #[test]
    fn names_keep_their_characters_and_normalise_the_dot() {
        let cases = [
            ("  王小明 ", Some("王小明")),
            ("阿依古丽•买买提", Some("阿依古丽·买买提")),
            ("阿依古丽・买买提", Some("阿依古丽·买买提")),
            ("阿依古丽 · 买买提", Some("阿依古丽·买买提")),
            ("阿依古丽．买买提", Some("阿依古丽·买买提")),
            ("Emma  Li", Some("Emma Li")),
            ("爱新觉罗·玄烨", Some("爱新觉罗·玄烨")),
            ("", None),
            ("   ", None),
            ("<b>王</b>", None),
            ("王\u{0}明", None),
        ];
        for (input, expected) in cases {
            assert_eq!(
                normalize_name(input).as_deref(),
                expected,
                "input {input:?}"
            );
        }
        let long = "买".repeat(MAX_NAME_CHARS);
        assert_eq!(normalize_name(&long).as_deref(), Some(long.as_str()));
        assert_eq!(normalize_name(&format!("{long}买")), None);
    }

    proptest! {
        #[test]
        fn normalised_mobile_is_eleven_ascii_digits(input in "\\PC{0,20}") {
            if let Some(mobile) = normalize_mobile(&input) {
                prop_assert_eq!(mobile.len(), 11);
                prop_assert!(mobile.bytes().all(|b| b.is_ascii_digit()));
                prop_assert_eq!(normalize_mobile(&mobile), Some(mobile.clone()));
            }
        }

        #[test]
        fn name_normalisation_is_idempotent(input in "\\PC{0,50}") {
            if let Some(name) = normalize_name(&input) {
                prop_assert_eq!(normalize_name(&name), Some(name.clone()));
            }
        }
    }
}
