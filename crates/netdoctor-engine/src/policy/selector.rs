//! Label selector matching, as the API machinery does it.

use netdoctor_model::k8s::{LabelRequirement, LabelSelector, Labels, SelectorOperator};

/// Whether `labels` satisfy every term of `selector`; the empty selector matches all.
pub fn matches(selector: &LabelSelector, labels: &Labels) -> bool {
    selector.match_labels.iter().all(|(k, v)| labels.get(k) == Some(v)) && selector.match_expressions.iter().all(|e| requirement(e, labels))
}

/// The requirements of `selector` that `labels` fail, described for a person:
/// `app=web (has app=wbe)`, `tier in (a, b) (no tier label)`. Empty when it matches.
pub fn unmet_requirements(selector: &LabelSelector, labels: &Labels) -> Vec<String> {
    let has = |key: &str| labels.get(key).map_or_else(|| format!("no `{key}` label"), |v| format!("has {key}={v}"));
    let mut out: Vec<String> =
        selector.match_labels.iter().filter(|(k, v)| labels.get(*k) != Some(*v)).map(|(k, v)| format!("{k}={v} ({})", has(k))).collect();
    for req in selector.match_expressions.iter().filter(|r| !requirement(r, labels)) {
        let values = req.values.join(", ");
        let wanted = match req.operator {
            SelectorOperator::In => format!("{} in ({values})", req.key),
            SelectorOperator::NotIn => format!("{} notin ({values})", req.key),
            SelectorOperator::Exists => req.key.clone(),
            SelectorOperator::DoesNotExist => format!("!{}", req.key),
        };
        out.push(format!("{wanted} ({})", has(&req.key)));
    }
    out
}

fn requirement(req: &LabelRequirement, labels: &Labels) -> bool {
    let value = labels.get(&req.key);
    match req.operator {
        SelectorOperator::In => value.is_some_and(|v| req.values.contains(v)),
        // NotIn also matches objects without the key at all (upstream semantics).
        SelectorOperator::NotIn => value.is_none_or(|v| !req.values.contains(v)),
        SelectorOperator::Exists => value.is_some(),
        SelectorOperator::DoesNotExist => value.is_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn expr(key: &str, operator: SelectorOperator, values: &[&str]) -> LabelSelector {
        let values = values.iter().map(ToString::to_string).collect();
        LabelSelector { match_labels: Labels::new(), match_expressions: vec![LabelRequirement { key: key.into(), operator, values }] }
    }

    #[test]
    fn operators() {
        let web = labels(&[("app", "web"), ("tier", "fe")]);
        let bare = labels(&[]);
        let cases = [
            (LabelSelector::default(), true, true),
            (LabelSelector { match_labels: labels(&[("app", "web")]), match_expressions: vec![] }, true, false),
            (expr("app", SelectorOperator::In, &["web", "db"]), true, false),
            (expr("app", SelectorOperator::NotIn, &["web"]), false, true),
            (expr("tier", SelectorOperator::Exists, &[]), true, false),
            (expr("tier", SelectorOperator::DoesNotExist, &[]), false, true),
        ];
        for (sel, on_web, on_bare) in cases {
            assert_eq!(matches(&sel, &web), on_web, "{sel} on web");
            assert_eq!(matches(&sel, &bare), on_bare, "{sel} on bare");
        }
    }
}
