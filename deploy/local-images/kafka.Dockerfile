# Local stand-in for apache/kafka:4.0.1: the Maven Central jars that scripts/kafka.sh fetches, on Debian's JRE.
# Same contract as the official image for what docker-compose.yml uses: KAFKA_* environment variables become
# server.properties keys (KAFKA_NODE_ID -> node.id), data in KAFKA_LOG_DIRS, tools under /opt/kafka/bin.
# Context: a directory holding libs/ (the jars) and this directory's kafka-*.sh (scripts/test_containers.sh).
ARG DEBIAN_BASE=local/debian:bookworm
FROM ${DEBIAN_BASE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jre-headless \
    && apt-get clean && rm -rf /var/lib/apt/lists/* /usr/share/doc /usr/share/man \
    && groupadd --system --gid 1000 appuser \
    && useradd --system --uid 1000 --gid 1000 --home-dir /opt/kafka --no-create-home appuser \
    && mkdir -p /var/lib/kafka/data /opt/kafka/config && chown 1000:1000 /var/lib/kafka/data /opt/kafka/config
COPY libs /opt/kafka/libs
COPY log4j2.properties /opt/kafka/config/log4j2.properties
COPY kafka-run.sh /opt/kafka/bin/kafka-run.sh
COPY kafka-broker-api-versions.sh /opt/kafka/bin/kafka-broker-api-versions.sh
USER 1000:1000
ENV KAFKA_HEAP_OPTS="-Xmx512m -Xms256m"
CMD ["/opt/kafka/bin/kafka-run.sh"]
