#!/bin/bash
# Stand-in for the official image's tool, for the compose healthcheck only (the Maven jars carry no
# kafka-tools): sends an ApiVersions v0 request to --bootstrap-server and succeeds on any well-formed answer.
set -euo pipefail
server=localhost:9092
while (($#)); do case $1 in --bootstrap-server) server=$2; shift 2 ;; *) shift ;; esac; done
exec 3<>"/dev/tcp/${server%:*}/${server##*:}"
# size=12 | api_key=18 (ApiVersions) | version=0 | correlation_id=1 | client_id="hc" (len 2)
printf '\x00\x00\x00\x0c\x00\x12\x00\x00\x00\x00\x00\x01\x00\x02hc' >&3
answer=$(timeout 10 head -c 10 <&3 | od -An -tx1 | tr -d ' \n')
# length (4 bytes) | correlation_id 00000001 | error_code 0000
[[ ${answer:8:12} == 000000010000 ]]
