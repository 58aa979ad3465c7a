//! What the live examples (`observe`, `plan`, `apply`) share: which cluster they talk to,
//! and the guard that keeps them on kind clusters.
//!
//! The kubeconfig is read the usual way (`--kubeconfig FILE`, else `$KUBECONFIG`, else
//! `~/.kube/config`) and the context is `--context NAME` or the current one. Its name and
//! server URL are printed first; then a context whose name does not start with `kind-` is
//! refused unless `--allow-context` names it exactly ([`guard::check_context`]). The client
//! is built by the library itself (`compactor_kube::live::connect`), from the same file and
//! the same context.

/// `println!` that ends the process quietly when the reader went away (`| head`), with
/// status 141 as a process killed by SIGPIPE would (the binary does the same), instead of
/// panicking.
macro_rules! say {
    () => {
        $crate::live_common::say(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::live_common::say(format_args!($($arg)*))
    };
}

/// [`say!`]'s body: one line on stdout.
pub fn say(line: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    if let Err(e) = writeln!(std::io::stdout().lock(), "{line}") {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(141);
        }
        eprintln!("cannot write to stdout: {e}");
        std::process::exit(1);
    }
}

mod guard;

use std::path::PathBuf;

use anyhow::{Context as _, Result, anyhow};
use compactor_core::text::printable;
use kube::config::Kubeconfig;

/// The command-line flags that choose the cluster.
#[derive(clap::Args, Debug, Clone)]
pub struct ClusterArgs {
    /// kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// kubeconfig context (default: the current one).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// Run against this context although its name does not start with `kind-` (give the
    /// context's exact name).
    #[arg(long, value_name = "NAME")]
    pub allow_context: Option<String>,
}

/// A cluster the guard let through.
#[derive(Debug, Clone)]
pub struct Target {
    /// The kubeconfig file given, if any.
    kubeconfig: Option<PathBuf>,
    /// The context's name.
    pub context: String,
    /// Its cluster's server URL.
    pub server: String,
}

/// Reads the kubeconfig, prints the context's name and server URL, and checks the guard.
///
/// # Errors
/// No kubeconfig, no such context (or no current one), a context without a cluster or
/// server, or a context the guard refuses.
pub fn target(args: &ClusterArgs) -> Result<Target> {
    let config = match &args.kubeconfig {
        Some(path) => Kubeconfig::read_from(path)
            .with_context(|| format!("reading the kubeconfig {}", path.display()))?,
        None => Kubeconfig::read().context(
            "reading the kubeconfig ($KUBECONFIG, else ~/.kube/config; or pass --kubeconfig PATH)",
        )?,
    };
    let context = match (&args.context, &config.current_context) {
        (Some(name), _) => name.clone(),
        (None, Some(name)) if !name.is_empty() => name.clone(),
        (None, _) => {
            return Err(anyhow!(
                "the kubeconfig has no current context: pass --context NAME (contexts: {})",
                names(config.contexts.iter().map(|c| c.name.as_str()))
            ));
        }
    };
    let cluster = config
        .contexts
        .iter()
        .find(|c| c.name == context)
        .ok_or_else(|| {
            anyhow!(
                "no context {:?} in the kubeconfig (contexts: {})",
                printable(&context),
                names(config.contexts.iter().map(|c| c.name.as_str()))
            )
        })?
        .context
        .as_ref()
        .map(|c| c.cluster.clone())
        .with_context(|| format!("context {:?} names no cluster", printable(&context)))?;
    let server = config
        .clusters
        .iter()
        .find(|c| c.name == cluster)
        .and_then(|c| c.cluster.as_ref())
        .and_then(|c| c.server.clone())
        .with_context(|| {
            format!(
                "context {:?}: cluster {:?} has no server in the kubeconfig",
                printable(&context),
                printable(&cluster)
            )
        })?;
    say!("context: {}", printable(&context));
    say!("server:  {}", printable(&server));
    guard::check_context(&context, args.allow_context.as_deref())
        .map_err(|why| anyhow!("{}", printable(&why)))?;
    Ok(Target {
        kubeconfig: args.kubeconfig.clone(),
        context,
        server,
    })
}

impl Target {
    /// A client for this context, built as `kube-compactor --live` builds it.
    ///
    /// # Errors
    /// The kubeconfig's credentials or certificates cannot be used.
    pub async fn connect(&self) -> Result<kube::Client> {
        compactor_kube::live::connect(self.kubeconfig.as_deref(), Some(&self.context))
            .await
            .with_context(|| format!("connecting to {}", printable(&self.server)))
    }
}

/// `a, b, c`, or `none`.
fn names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let all: Vec<String> = names.map(|n| printable(n).into_owned()).collect();
    if all.is_empty() {
        "none".to_owned()
    } else {
        all.join(", ")
    }
}
