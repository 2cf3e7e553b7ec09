# brownout-gateway: built on the Swift 6.3 toolchain image, run on Debian slim with only what it
# needs (CA certificates for the providers' TLS, SQLite for budget spend and the ledger's spool,
# curl for the health check), as an unprivileged user. The gateway links neither the simulator
# nor GSL: the build stage installs no GSL.
#
#   docker build -f deploy/docker/gateway.Dockerfile -t brownout-gateway:1 .
#   docker run -p 8080:8080 -v "$PWD/deploy/kubernetes/gateway/spec.yaml:/etc/brownout/spec.yaml:ro" brownout-gateway:1
FROM swift:6.3-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends libsqlite3-dev=3.40.* \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN swift build -c release --product brownout-gateway --static-swift-stdlib \
    && install -D -m 755 .build/release/brownout-gateway /out/brownout-gateway

FROM debian:12.8-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates=20230311* libsqlite3-0=3.40.* curl=7.88.* \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/brownout --create-home brownout
COPY --from=build /out/brownout-gateway /usr/local/bin/brownout-gateway
USER 10001:10001
WORKDIR /var/lib/brownout
EXPOSE 8080 9090
HEALTHCHECK --interval=10s --timeout=2s --retries=3 CMD ["curl", "-fsS", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["/usr/local/bin/brownout-gateway"]
CMD ["/etc/brownout/spec.yaml"]
