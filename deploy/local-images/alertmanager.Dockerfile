# Local stand-in for prom/alertmanager: Debian bookworm's Alertmanager (0.25, as the compose image), with wget
# for the compose healthcheck.
ARG DEBIAN_BASE=local/debian:bookworm
FROM ${DEBIAN_BASE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends prometheus-alertmanager wget \
    && apt-get clean && rm -rf /var/lib/apt/lists/* /usr/share/doc /usr/share/man \
    && mkdir -p /alertmanager && chown 65534:65534 /alertmanager
USER 65534:65534
ENTRYPOINT ["/usr/bin/prometheus-alertmanager"]
