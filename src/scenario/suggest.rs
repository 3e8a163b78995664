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

/// "; did you mean `x`?" for the candidate closest to `word`, or nothing: the suffix every
/// unknown-name message carries.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(word, candidates)
        .map(|c| format!("; did you mean `{c}`?"))
        .unwrap_or_default()
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
        // serde writes "expected one of `a`, `b`" or "expected `a` or `b`"; serde-saphyr
        // writes "expected one of a, b". Accept all of them.
        let list = tail.split_once("expected").map_or("", |(_, l)| l);
        let list = list.trim().trim_start_matches("one of").replace('`', "");
        let expected: Vec<&str> = list
            .split([','])
            .flat_map(|part| part.split(" or "))
            .map(str::trim)
            .filter(|s| !s.is_empty())
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
    match message {
        "invalid i64" | "invalid u64" | "invalid i32" | "invalid u32" => {
            "expected a whole number".to_string()
        }
        "invalid f64" | "invalid f32" => "expected a number".to_string(),
        "invalid bool" => "expected true or false".to_string(),
        _ => message.to_string(),
    }
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
    fn understands_serde_saphyr_wording_too() {
        let msg = "unknown field `replcas`, expected one of name, replicas, selector";
        assert_eq!(
            improve_message(msg),
            "unknown key `replcas`; did you mean `replicas`? (expected one of: name, replicas, selector)"
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
