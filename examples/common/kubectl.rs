//! A thin `kubectl` runner shared by the examples that drive the e2e cluster.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

/// The kubectl binary and the kubeconfig it talks to.
#[derive(Debug)]
pub struct Kubectl {
    pub bin: PathBuf,
    pub kubeconfig: PathBuf,
}

impl Kubectl {
    /// The e2e build's kubectl (`$E2E_CACHE`, default `~/.cache/kube-compactor-e2e`) and
    /// `$KUBECONFIG`, else the e2e cluster's kubeconfig.
    pub fn from_env() -> Self {
        let cache = std::env::var_os("E2E_CACHE").map_or_else(
            || {
                PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                    .join(".cache/kube-compactor-e2e")
            },
            PathBuf::from,
        );
        let kubeconfig = std::env::var_os("KUBECONFIG").map_or_else(
            || cache.join("kwok-home/clusters/kube-compactor-e2e/kubeconfig.yaml"),
            PathBuf::from,
        );
        Self {
            bin: cache.join("v1.34.4/bin/kubectl"),
            kubeconfig,
        }
    }

    /// Runs kubectl with `args` (and `stdin`), returning its stdout; a non-zero exit is an
    /// error carrying its stderr.
    pub fn run(&self, args: &[&str], stdin: Option<&[u8]>) -> Result<String> {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .with_context(|| format!("running {}", self.bin.display()))?;
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(input)?;
        }
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!(
                "kubectl {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8(out.stdout)?)
    }

    /// `kubectl ARGS -o json`, parsed.
    pub fn json(&self, args: &[&str]) -> Result<Value> {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        Ok(serde_json::from_str(&self.run(&all, None)?)?)
    }

    /// `kubectl create` of `items` as one List.
    pub fn create(&self, items: &[Value]) -> Result<()> {
        let list = json!({"apiVersion": "v1", "kind": "List", "items": items});
        self.run(&["create", "-f", "-"], Some(list.to_string().as_bytes()))?;
        Ok(())
    }
}

/// Polls `f` every 50 ms until it returns `Some`, for at most `timeout`.
pub fn poll<T>(timeout: Duration, mut f: impl FnMut() -> Result<Option<T>>) -> Result<Option<T>> {
    let start = Instant::now();
    loop {
        if let Some(v) = f()? {
            return Ok(Some(v));
        }
        if start.elapsed() > timeout {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Kubectl {
    /// The cluster as `kubectl get nodes,pods,pdb,pvc,pv,namespaces,csinodes -A -o json` prints it: what
    /// the kubectl import reads.
    pub fn dump(&self) -> Result<String> {
        self.run(
            &[
                "get",
                "nodes,pods,pdb,pvc,pv,namespaces,csinodes",
                "-A",
                "-o",
                "json",
            ],
            None,
        )
    }

    /// Waits (at most `timeout`) until the cluster has exactly `n` nodes, all Ready and free of
    /// the node lifecycle controller's `node.kubernetes.io/*` taints; false on time-out.
    pub fn wait_nodes_ready(&self, n: usize, timeout: Duration) -> Result<bool> {
        let ready = poll(timeout, || {
            let items = self.json(&["get", "nodes"])?["items"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let ok = items.len() == n
                && items.iter().all(|node| {
                    node["status"]["conditions"].as_array().is_some_and(|c| {
                        c.iter()
                            .any(|c| c["type"] == "Ready" && c["status"] == "True")
                    }) && !node["spec"]["taints"].as_array().is_some_and(|t| {
                        t.iter().any(|t| {
                            t["key"]
                                .as_str()
                                .is_some_and(|k| k.starts_with("node.kubernetes.io/"))
                        })
                    })
                });
            Ok(ok.then_some(()))
        })?;
        Ok(ready.is_some())
    }

    /// Empties namespace `ns` at once: its controllers (`kinds`, e.g. `rs,sts,job`) deleted
    /// with their pods orphaned, then every pod force-deleted. Deleting the controllers in
    /// the foreground, or the namespace itself, takes minutes for a thousand pods.
    pub fn empty_namespace(&self, ns: &str, kinds: &str) -> Result<()> {
        self.run(
            &["delete", kinds, "--all", "-n", ns, "--cascade=orphan"],
            None,
        )?;
        self.force_delete(&["pods", "--all"], ns)
    }

    /// Force-deletes `what` (`["pod", name]`, `["pods", "--all"]`) in namespace `ns`, with no
    /// grace period.
    pub fn force_delete(&self, what: &[&str], ns: &str) -> Result<()> {
        let mut args = vec!["delete"];
        args.extend_from_slice(what);
        args.extend_from_slice(&["-n", ns, "--force", "--grace-period=0"]);
        self.run(&args, None)?;
        Ok(())
    }
}
