//! The kubeconfig the emulator writes: one cluster (`http://ADDR`), one user
//! with a dummy bearer token, one context made current, default namespace
//! `default`. kubectl, helm and kube-rs read it as is.

use std::net::SocketAddr;
use std::path::Path;

/// The kubeconfig text for a server at `addr`.
pub fn kubeconfig(addr: SocketAddr) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: kube-emulator
  cluster:
    server: http://{addr}
contexts:
- name: kube-emulator
  context:
    cluster: kube-emulator
    user: kube-emulator
    namespace: default
current-context: kube-emulator
users:
- name: kube-emulator
  user:
    token: {token}
",
        token = crate::TOKEN
    )
}

/// Writes [`kubeconfig`] to `path` (parents created).
pub fn write_kubeconfig(path: &Path, addr: SocketAddr) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, kubeconfig(addr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_is_yaml_with_a_current_context() {
        let text = kubeconfig(SocketAddr::from(([127, 0, 0, 1], 6443)));
        let value: serde_json::Value = yaml_serde::from_str(&text).expect("yaml");
        assert_eq!(value["current-context"], "kube-emulator");
        assert_eq!(
            value["clusters"][0]["cluster"]["server"],
            "http://127.0.0.1:6443"
        );
    }
}
