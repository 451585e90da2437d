//! Request parameters in `application/x-www-form-urlencoded` form, for query
//! strings and form bodies alike.

/// The decoded name-value pairs of one query string or form body.
pub(super) struct Params {
    pairs: Vec<(String, String)>,
}

/// A parameter that RFC 6749 §3.1 and §3.2 forbid from appearing more than once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RepeatedParam(pub &'static str);

impl std::fmt::Display for RepeatedParam {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "parameter {} is repeated", self.0)
    }
}

impl Params {
    /// Decodes `input`. Invalid percent-escapes and invalid UTF-8 are
    /// decoded lossily, as browsers do, so parsing cannot fail.
    pub fn parse(input: &[u8]) -> Self {
        let pairs = url::form_urlencoded::parse(input)
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
        Self { pairs }
    }

    /// Returns the value of `name`. A parameter sent with an empty value
    /// counts as omitted, as RFC 6749 §3.1 and §3.2 specify.
    pub fn get(&self, name: &'static str) -> Result<Option<&str>, RepeatedParam> {
        let mut values = self
            .pairs
            .iter()
            .filter(|(pair_name, value)| pair_name == name && !value.is_empty())
            .map(|(_, value)| value.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(RepeatedParam(name));
        }
        Ok(first)
    }

    /// Returns the value of `name` as an owned string, like [`Params::get`].
    pub fn get_owned(&self, name: &'static str) -> Result<Option<String>, RepeatedParam> {
        Ok(self.get(name)?.map(str::to_owned))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_decode_percent_and_plus() {
        let params = Params::parse(b"scope=openid+profile&redirect_uri=http%3A%2F%2Fa%2Fcb");

        assert_eq!(params.get("scope"), Ok(Some("openid profile")));
        assert_eq!(params.get("redirect_uri"), Ok(Some("http://a/cb")));
        assert_eq!(params.get("state"), Ok(None));
    }

    #[test]
    fn params_treat_empty_as_omitted() {
        let params = Params::parse(b"state=&nonce=n");

        assert_eq!(params.get("state"), Ok(None));
        assert_eq!(params.get("nonce"), Ok(Some("n")));
    }

    #[test]
    fn params_reject_repeated_names() {
        let params = Params::parse(b"state=a&state=b");

        assert_eq!(params.get("state"), Err(RepeatedParam("state")));
    }
}
