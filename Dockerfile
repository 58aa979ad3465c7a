# kube-compactor container image: `docker build -t kube-compactor:dev .`
#
# Build stage: the release binary, with the versions pinned by Cargo.lock (--locked). The
# cache mounts (BuildKit, Docker's default builder) keep the crates and the target directory
# between builds; the binary is copied out of the cached target directory.
FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin kube-compactor \
    && install -D -m 0755 target/release/kube-compactor /out/kube-compactor

# Runtime stage: distroless (glibc, libgcc, CA certificates; no shell, no package manager),
# as the unprivileged user 65532. The time zone database is built into the binary.
FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.title="kube-compactor" \
      org.opencontainers.image.description="Kubernetes workload consolidation: reviewable, explained, bounded plans" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=builder /out/kube-compactor /usr/local/bin/kube-compactor
USER 65532:65532
# 8080: /healthz and /readyz; 8081: /metrics (`kube-compactor controller`).
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/kube-compactor"]
