#!/bin/bash
# KAFKA_FOO_BAR=x -> foo.bar=x (the official image's convention), format the log dir once, run the broker.
set -euo pipefail
conf=/opt/kafka/config/server.properties
: >"$conf"
while IFS='=' read -r name value; do
    case $name in KAFKA_HEAP_OPTS | KAFKA_CLUSTER_ID) continue ;; KAFKA_*) ;; *) continue ;; esac
    key=$(tr 'A-Z_' 'a-z.' <<<"${name#KAFKA_}")
    printf '%s=%s\n' "$key" "$value" >>"$conf"
done < <(env)
cp_="/opt/kafka/libs/*"
log4j=(-Dlog4j2.configurationFile=/opt/kafka/config/log4j2.properties)
data=${KAFKA_LOG_DIRS:-/var/lib/kafka/data}
if [[ ! -f $data/meta.properties ]]; then
    java -Xmx256m "${log4j[@]}" -cp "$cp_" kafka.tools.StorageTool format -t "${KAFKA_CLUSTER_ID:-4L6g3nShT-eMCtK--X86sw}" -c "$conf"
fi
# shellcheck disable=SC2086
exec java $KAFKA_HEAP_OPTS "${log4j[@]}" -cp "$cp_" kafka.Kafka "$conf"
