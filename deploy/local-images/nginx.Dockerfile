# Local stand-in for nginx:1.27-alpine: Debian bookworm's nginx (1.22), runnable as uid 101 like the compose file
# asks, with wget for the compose healthcheck.
ARG DEBIAN_BASE=local/debian:bookworm
FROM ${DEBIAN_BASE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends nginx-light wget \
    && apt-get clean && rm -rf /var/lib/apt/lists/* /usr/share/doc /usr/share/man \
    && (getent group 101 || groupadd --system --gid 101 nginx) \
    && (getent passwd 101 || useradd --system --uid 101 --gid 101 --no-create-home nginx) \
    && ln -sf /dev/stderr /var/log/nginx/error.log && ln -sf /dev/stdout /var/log/nginx/access.log
CMD ["nginx", "-g", "daemon off;"]
