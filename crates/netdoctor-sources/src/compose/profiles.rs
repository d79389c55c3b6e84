//! Profiles: a service that lists `profiles:` is active only when one of them is selected
//! (`--profile`, else COMPOSE_PROFILES; `*` selects all). Services without profiles are
//! always active. Inactive services are removed from the document.

use super::edit;
use super::load::Env;
use crate::error::{LoadError, Result};
use crate::tree::Node;

/// The selected profiles: the flags when given, else COMPOSE_PROFILES (comma-separated).
pub(crate) fn selected(flags: &[String], env: &Env) -> Vec<String> {
    if !flags.is_empty() {
        return flags.to_vec();
    }
    let listed = env.get("COMPOSE_PROFILES").map(String::as_str).unwrap_or_default();
    listed.split(',').map(str::trim).filter(|p| !p.is_empty()).map(str::to_string).collect()
}

/// Removes the services none of whose profiles is selected.
pub(crate) fn retain_active(root: &mut Node, selected: &[String]) -> Result<()> {
    let Some(services) = edit::get_mut(root, "services").and_then(edit::entries_mut) else { return Ok(()) };
    let mut kept = Vec::with_capacity(services.len());
    for entry in std::mem::take(services) {
        if is_active(&entry.value, selected)? {
            kept.push(entry);
        }
    }
    *services = kept;
    Ok(())
}

fn is_active(service: &Node, selected: &[String]) -> Result<bool> {
    let Some(profiles) = service.get("profiles").filter(|p| !p.is_null()) else { return Ok(true) };
    let Some(items) = profiles.as_seq() else {
        let message = format!("`profiles` must be a list of profile names, found {}", profiles.kind_name());
        return Err(LoadError::at(&profiles.span, message));
    };
    let all = selected.iter().any(|p| p == "*");
    let chosen = |item: &Node| item.as_scalar().is_some_and(|name| selected.iter().any(|p| p == name));
    Ok(items.is_empty() || all || items.iter().any(chosen))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::sync::Arc;

    #[test]
    fn keeps_services_of_selected_profiles() {
        let text = "services:\n  always: {}\n  dbg: {profiles: [debug]}\n  both: {profiles: [debug, test]}\n  empty: {profiles: []}\n";
        let cases: &[(&[&str], &str, &str)] = &[
            (&[], "", "always, empty"),
            (&["debug"], "", "always, dbg, both, empty"),
            (&["test"], "", "always, both, empty"),
            (&["*"], "", "always, dbg, both, empty"),
            (&[], "test, other", "always, both, empty"),
            (&["debug"], "test", "always, dbg, both, empty"),
        ];
        for (flags, env_value, want) in cases {
            let Ok(mut root) = crate::yaml::parse(text, Arc::from(Path::new("c.yaml"))) else { panic!("parse") };
            let env = Env::from([("COMPOSE_PROFILES".to_string(), env_value.to_string())]);
            let flags: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
            assert!(retain_active(&mut root, &selected(&flags, &env)).is_ok());
            let names: Vec<&str> = root.get("services").and_then(Node::as_map).unwrap_or_default().iter().map(|e| e.key.as_str()).collect();
            assert_eq!(names.join(", "), *want, "{flags:?} {env_value:?}");
        }
    }

    #[test]
    fn rejects_a_profiles_scalar() {
        let Ok(mut root) = crate::yaml::parse("services:\n  s: {profiles: debug}\n", Arc::from(Path::new("c.yaml"))) else {
            panic!("parse")
        };
        let e = retain_active(&mut root, &[]).err().map(|e| (e.line, e.message));
        assert_eq!(e, Some((2, "`profiles` must be a list of profile names, found a string".to_string())));
    }
}
