//! "Did you mean" for misspelt keys and names.
//!
//! Rewrites serde's `unknown field`/`unknown variant` messages so users get the one
//! suggestion that matters first, with the full list after it.

/// The candidate closest to `word`, if any is close enough to be a plausible typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| c)
}

/// Turns serde's "unknown field `x`, expected one of `a`, `b`" (or "unknown variant") into
/// "unknown key `x`; did you mean `a`? (expected one of: a, b)". Other messages pass through.
pub fn improve_message(message: &str) -> String {
    for (prefix, noun) in [("unknown field `", "key"), ("unknown variant `", "kind")] {
        let Some(rest) = message.strip_prefix(prefix) else {
            continue;
        };
        let Some((word, tail)) = rest.split_once('`') else {
            continue;
        };
        let expected: Vec<&str> = tail
            .split('`')
            .enumerate()
            .filter(|(i, _)| i % 2 == 1)
            .map(|(_, s)| s)
            .collect();
        let mut out = format!("unknown {noun} `{word}`");
        if let Some(best) = closest(word, expected.iter().copied()) {
            out.push_str(&format!("; did you mean `{best}`?"));
        }
        if expected.is_empty() {
            out.push_str(" (no keys are allowed here)");
        } else {
            out.push_str(&format!(" (expected one of: {})", expected.join(", ")));
        }
        return out;
    }
    message.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_nearest_key() {
        let msg = "unknown field `replcas`, expected one of `name`, `replicas`, `template`";
        assert_eq!(
            improve_message(msg),
            "unknown key `replcas`; did you mean `replicas`? (expected one of: name, replicas, template)"
        );
    }

    #[test]
    fn no_suggestion_for_unrelated_words() {
        let msg = "unknown variant `zzz`, expected `constant` or `ramp`";
        assert_eq!(
            improve_message(msg),
            "unknown kind `zzz` (expected one of: constant, ramp)"
        );
        assert_eq!(
            improve_message("missing field `name`"),
            "missing field `name`"
        );
    }

    #[test]
    fn closest_handles_case_and_absence() {
        assert_eq!(
            closest("M5.Large", ["m5.large", "m5.xlarge"]),
            Some("m5.large")
        );
        assert_eq!(closest("qqq", ["m5.large"]), None);
    }
}
