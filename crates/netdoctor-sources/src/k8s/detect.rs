//! Telling Kubernetes manifests from a Compose project, so one `check PATH` reads either.

use super::files;
use std::io::Read;
use std::path::Path;

/// Compose file names `docker compose` looks for in a project directory.
const COMPOSE_FILES: &[&str] = &["compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"];

/// How much of a file is read to recognise it.
const SNIFF_BYTES: u64 = 64 * 1024;

/// Whether `path` holds Kubernetes manifests rather than a Compose project: a file whose
/// text has a top-level `apiVersion` and `kind`, or a directory with no Compose file of
/// its own and at least one such file at or under it.
pub fn is_manifest_input(path: &Path) -> bool {
    if path.is_file() {
        return looks_like_manifest(path);
    }
    if !path.is_dir() || COMPOSE_FILES.iter().any(|f| path.join(f).is_file()) {
        return false;
    }
    let mut warnings = Vec::new();
    let mut errors = Vec::new();
    files::discover(path, &mut warnings, &mut errors).iter().any(|f| looks_like_manifest(f))
}

/// Whether the start of a file reads like a Kubernetes object (YAML or JSON).
fn looks_like_manifest(path: &Path) -> bool {
    let mut text = String::new();
    let read = std::fs::File::open(path).and_then(|f| f.take(SNIFF_BYTES).read_to_string(&mut text));
    if read.is_err() {
        // Cut inside a multi-byte character, or unreadable: decide on what was read.
        if text.is_empty() {
            return false;
        }
    }
    let yaml = |key: &str| text.lines().any(|l| l.strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with(':')));
    let json = |key: &str| text.contains(&format!("\"{key}\""));
    (yaml("apiVersion") && yaml("kind")) || (json("apiVersion") && json("kind"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_manifests_from_compose() {
        let dir = std::env::temp_dir().join(format!("nd-detect-{}", std::process::id()));
        let k8s = dir.join("k8s");
        let compose = dir.join("compose");
        std::fs::create_dir_all(k8s.join("sub")).unwrap_or_default();
        std::fs::create_dir_all(&compose).unwrap_or_default();
        std::fs::write(k8s.join("sub/svc.yaml"), "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n").unwrap_or_default();
        std::fs::write(compose.join("compose.yaml"), "services:\n  web: {image: nginx}\n").unwrap_or_default();
        std::fs::write(compose.join("pod.yaml"), "apiVersion: v1\nkind: Pod\n").unwrap_or_default();
        let json = dir.join("list.json");
        std::fs::write(&json, "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": []}").unwrap_or_default();
        assert!(is_manifest_input(&k8s));
        assert!(is_manifest_input(&k8s.join("sub/svc.yaml")));
        assert!(is_manifest_input(&json));
        assert!(!is_manifest_input(&compose), "a Compose file in the directory wins");
        assert!(!is_manifest_input(&compose.join("compose.yaml")));
        assert!(!is_manifest_input(&dir.join("missing")));
        std::fs::remove_dir_all(&dir).unwrap_or_default();
    }
}
