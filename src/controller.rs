//! `kube-compactor controller`: the operator. Serves health and metrics at once, waits for
//! the leader Lease, then runs the controller until the Lease is lost (exit 1) or a
//! termination signal arrives (the Lease is released for a fast hand-over).

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use compactor_kube::controller::{Context, Telemetry, run};
use compactor_kube::execute::ExecuteOptions;
use compactor_kube::lease::Elector;

use crate::Connection;
use crate::serve::{Endpoints, bind, serve};

/// Arguments of `controller`.
#[derive(clap::Args, Debug)]
pub(crate) struct ControllerArgs {
    #[command(flatten)]
    connection: Connection,
    /// Namespace of the MigrationPlans, OptimizationReports and the leader Lease.
    #[arg(long, env = "POD_NAMESPACE", default_value = "kube-compactor")]
    namespace: String,
    /// This replica's name in the Lease (default: the host name and process id).
    #[arg(long, env = "POD_NAME")]
    identity: Option<String>,
    /// Address of /healthz and /readyz.
    #[arg(long, default_value = "0.0.0.0:8080")]
    health_addr: SocketAddr,
    /// Address of /metrics.
    #[arg(long, default_value = "0.0.0.0:8081")]
    metrics_addr: SocketAddr,
    /// Log format (the level comes from RUST_LOG, default info).
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Name of the leader-election Lease.
    #[arg(long, default_value = "kube-compactor")]
    lease_name: String,
    /// Seconds a Lease lasts without renewal (a standby takes over this long after the
    /// leader dies); renewed every third of it.
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u64).range(3..=3600))]
    lease_duration: u64,
    /// Give up on an eviction a budget keeps refusing (429) after this many seconds.
    #[arg(long, default_value_t = 600)]
    eviction_timeout: u64,
    /// Give up on a wave whose replacements are not all Ready after this many seconds.
    #[arg(long, default_value_t = 600)]
    wave_timeout: u64,
    /// Stop when a replacement stays unschedulable this many seconds.
    #[arg(long, default_value_t = 60)]
    pending_grace: u64,
}

/// Log formats.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only on a terminal: a log collector (or a file) gets plain text.
        .with_ansi(std::io::stderr().is_terminal());
    // A second initialisation (tests) keeps the first.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

pub(crate) fn run_controller(args: ControllerArgs) -> anyhow::Result<ExitCode> {
    init_logging(args.log_format);
    let identity = args.identity.clone().unwrap_or_else(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_else(|_| "kube-compactor".to_owned());
        format!("{host}-{}", std::process::id())
    });
    crate::runtime()?.block_on(async move {
        let telemetry = Arc::new(Telemetry::default());
        let ready = Arc::new(AtomicBool::new(false));
        let health = bind(args.health_addr).await?;
        let metrics = bind(args.metrics_addr).await?;
        tokio::spawn(serve(health, Endpoints::Health(ready.clone())));
        tokio::spawn(serve(metrics, Endpoints::Metrics(telemetry.clone())));
        let client = crate::connect(&args.connection).await?;
        let version = client
            .apiserver_version()
            .await
            .map_err(|e| anyhow::anyhow!("the API server does not answer: {e}"))?;
        ready.store(true, Ordering::Relaxed);
        tracing::info!(
            identity,
            namespace = args.namespace,
            server = version.git_version,
            "connected; waiting for the lease"
        );
        let lease = Duration::from_secs(args.lease_duration);
        let elector = Elector::new(client.clone(), &args.namespace, &args.lease_name, &identity)
            .with_timing(lease, lease / 3);
        tokio::select! {
            acquired = elector.acquire() => acquired?,
            _ = terminated() => {
                tracing::info!("terminated while standing by");
                return Ok(ExitCode::SUCCESS);
            }
        }
        tracing::info!(identity, lease = args.lease_name, "leading");
        let options = ExecuteOptions::default().with_deadlines(
            Duration::from_secs(args.eviction_timeout),
            Duration::from_secs(args.wave_timeout),
            Duration::from_secs(args.pending_grace),
        );
        let ctx = Arc::new(
            Context::new(client, &args.namespace, &identity, telemetry).with_execute(options),
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let controller = run(ctx, async move {
            let _ = stopped.await;
        });
        tokio::pin!(controller);
        tokio::select! {
            () = &mut controller => Ok(ExitCode::SUCCESS),
            lost = elector.hold() => {
                // Stop acting at once: another replica may lead now.
                tracing::error!(reason = lost, "lost the lease; exiting");
                Ok(ExitCode::FAILURE)
            }
            _ = terminated() => {
                tracing::info!("terminating: finishing the reconciles in progress");
                let _ = stop.send(());
                controller.await;
                if let Err(e) = elector.release().await {
                    tracing::warn!(error = %e, "cannot release the lease");
                }
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}

/// SIGTERM (what the kubelet sends) or Ctrl-C.
async fn terminated() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}
