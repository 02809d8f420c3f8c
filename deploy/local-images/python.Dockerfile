# Local stand-in for python:3.11-slim-bookworm, for machines that reach no image registry (scripts/test_containers.sh).
# Debian bookworm's own Python 3.11 on the debootstrap base local/debian:bookworm; same /usr/bin/python3.11 in
# the builder and the runtime stages, so the services' virtualenvs link to a Python that the runtime has.
ARG DEBIAN_BASE=local/debian:bookworm
FROM ${DEBIAN_BASE} AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python-is-python3 ca-certificates \
    && apt-get clean && rm -rf /var/lib/apt/lists/* /usr/share/doc /usr/share/man \
    && python --version

# The builder adds pip and venv, and the build machine's CA bundle (its TLS path to PyPI needs it). This stage is
# used only as the services' builder stage; the bundle never reaches a runtime image.
FROM runtime AS builder
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3-pip python3-venv \
    && apt-get clean && rm -rf /var/lib/apt/lists/*
COPY ca-bundle.crt /etc/ssl/build-ca.crt
ENV PIP_CERT=/etc/ssl/build-ca.crt SSL_CERT_FILE=/etc/ssl/build-ca.crt UV_NATIVE_TLS=1 \
    PIP_BREAK_SYSTEM_PACKAGES=1
