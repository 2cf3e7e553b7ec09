# brownout, the simulator's command (the sweep Job's image): built with GSL on the Swift 6.3
# toolchain image, run on Debian slim with GSL's runtime and the scenarios, as an unprivileged
# user. It builds without the server stack (`swift build --product brownout`).
#
#   docker build -f deploy/docker/simulator.Dockerfile -t brownout:1 .
#   docker run --rm brownout:1 run experiments/april-correlated-529.yaml --out /tmp/out
FROM swift:6.3-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgsl-dev=2.7.* pkg-config=1.8.* \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN swift build -c release --product brownout --static-swift-stdlib \
    && install -D -m 755 .build/release/brownout /out/brownout

FROM debian:12.8-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgsl27=2.7.* libgslcblas0=2.7.* \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /work --create-home brownout
COPY --from=build /out/brownout /usr/local/bin/brownout
COPY --chown=10001:10001 experiments /work/experiments
COPY --chown=10001:10001 models /work/models
USER 10001:10001
WORKDIR /work
HEALTHCHECK NONE
ENTRYPOINT ["/usr/local/bin/brownout"]
CMD ["--help"]
