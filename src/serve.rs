//! The controller's HTTP endpoints: `/healthz` and `/readyz` (health address, :8080) and
//! `/metrics` (metrics address, :8081), plain HTTP/1.1, GET only.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use compactor_kube::controller::Telemetry;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::CONTENT_TYPE;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// OpenMetrics text, which Prometheus scrapes (prometheus-client writes this format).
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// What one endpoint set answers.
#[derive(Clone, Debug)]
pub(crate) enum Endpoints {
    /// `/healthz`: the process serves; `/readyz`: the API server answered (a standby is
    /// ready too: it is healthy and waits for the Lease).
    Health(Arc<AtomicBool>),
    /// `/metrics`.
    Metrics(Arc<Telemetry>),
}

impl Endpoints {
    /// Status, content type and body for `method path`.
    pub(crate) fn respond(
        &self,
        method: &Method,
        path: &str,
    ) -> (StatusCode, &'static str, String) {
        if method != Method::GET && method != Method::HEAD {
            return (
                StatusCode::METHOD_NOT_ALLOWED,
                TEXT,
                "only GET\n".to_owned(),
            );
        }
        match (self, path) {
            (Self::Health(_), "/healthz") => (StatusCode::OK, TEXT, "ok\n".to_owned()),
            (Self::Health(ready), "/readyz") => {
                if ready.load(Ordering::Relaxed) {
                    (StatusCode::OK, TEXT, "ready\n".to_owned())
                } else {
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        TEXT,
                        "the API server has not answered yet\n".to_owned(),
                    )
                }
            }
            (Self::Metrics(t), "/metrics") => (StatusCode::OK, OPENMETRICS, t.encode()),
            _ => (StatusCode::NOT_FOUND, TEXT, "not found\n".to_owned()),
        }
    }
}

/// Binds `addr` (so that a port in use fails at start-up).
pub(crate) async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))
}

/// Serves `endpoints` on `listener` until the task is dropped.
pub(crate) async fn serve(listener: TcpListener, endpoints: Endpoints) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let endpoints = endpoints.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let (status, kind, body) = endpoints.respond(req.method(), req.uri().path());
                let mut response = Response::new(Full::new(Bytes::from(body)));
                *response.status_mut() = status;
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, hyper::header::HeaderValue::from_static(kind));
                async move { Ok::<_, Infallible>(response) }
            });
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %e, "http connection ended with an error");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::io::{Read, Write};

    /// One real HTTP request to a served endpoint set, through a socket.
    fn get(endpoints: Endpoints, method: &str, path: &str) -> (u16, String, String) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = tokio::spawn(serve(listener, endpoints));
            let request =
                format!("{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            let text = tokio::task::spawn_blocking(move || {
                let mut s = std::net::TcpStream::connect(addr).unwrap();
                s.write_all(request.as_bytes()).unwrap();
                let mut text = String::new();
                s.read_to_string(&mut text).unwrap();
                text
            })
            .await
            .unwrap();
            server.abort();
            let (head, body) = text.split_once("\r\n\r\n").unwrap();
            let code = head.split(' ').nth(1).unwrap().parse().unwrap();
            let kind = head
                .lines()
                .find_map(|l| l.strip_prefix("content-type: "))
                .unwrap_or("")
                .to_owned();
            (code, kind, body.to_owned())
        })
    }

    #[test]
    fn health_and_readiness() {
        let ready = Arc::new(AtomicBool::new(false));
        let health = Endpoints::Health(ready.clone());
        assert_eq!(get(health.clone(), "GET", "/healthz").0, 200);
        assert_eq!(get(health.clone(), "GET", "/readyz").0, 503);
        ready.store(true, Ordering::Relaxed);
        let (code, kind, body) = get(health.clone(), "GET", "/readyz");
        assert_eq!((code, kind.as_str(), body.as_str()), (200, TEXT, "ready\n"));
        assert_eq!(get(health.clone(), "GET", "/metrics").0, 404);
        assert_eq!(get(health, "POST", "/healthz").0, 405);
    }

    #[test]
    fn metrics_are_scraped_as_openmetrics_text() {
        let telemetry = Arc::new(Telemetry::default());
        telemetry.analysed("default", 4, 3, 120.5, 3, 2);
        let (code, kind, body) = get(Endpoints::Metrics(telemetry), "GET", "/metrics");
        assert_eq!((code, kind.as_str()), (200, OPENMETRICS));
        // Every sample line is `name{labels} value` with a number; the text ends with EOF.
        assert!(body.ends_with("# EOF\n"), "{body}");
        let mut names = Vec::new();
        for line in body.lines().filter(|l| !l.starts_with('#')) {
            let (series, value) = line.rsplit_once(' ').unwrap();
            value.parse::<f64>().unwrap();
            names.push(series.split('{').next().unwrap().to_owned());
        }
        for want in [
            "kube_compactor_nodes_total",
            "kube_compactor_potential_savings_dollars",
            "kube_compactor_binpacking_efficiency_percent",
            "kube_compactor_analysis_duration_seconds_count",
        ] {
            assert!(names.iter().any(|n| n == want), "{want} not in {body}");
        }
        assert!(
            body.contains(r#"kube_compactor_nodes_total{config="default"} 4"#),
            "{body}"
        );
    }
}
