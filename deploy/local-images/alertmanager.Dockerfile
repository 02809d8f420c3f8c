# Local stand-in for prom/alertmanager:v0.25.0: Debian bookworm's prometheus-alertmanager (the same 0.25.0), run as
# nobody like the official image, with wget for the compose healthcheck. ENTRYPOINT as in the official image, so
# docker-compose.yml's `command` (its flags) applies unchanged.
ARG DEBIAN_BASE=local/debian:bookworm
FROM ${DEBIAN_BASE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends prometheus-alertmanager wget \
    && apt-get clean && rm -rf /var/lib/apt/lists/* /usr/share/doc /usr/share/man \
    && mkdir -p /alertmanager /etc/alertmanager && chown 65534:65534 /alertmanager
USER 65534:65534
ENTRYPOINT ["/usr/bin/prometheus-alertmanager"]
