#!/usr/bin/env bash
# Spark GPU discovery script (spark.executor.resource.gpu.discoveryScript):
# prints {"name":"gpu","addresses":["0","1",...]} for the GPUs nvidia-smi sees.
set -euo pipefail
if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo '{"name":"gpu","addresses":[]}'
  exit 0
fi
ADDRS=$(nvidia-smi --query-gpu=index --format=csv,noheader | sed -e 's/[[:space:]]//g' -e '/^$/d' \
  | sed -e 's/^/"/' -e 's/$/"/' | paste -sd, -)
echo "{\"name\":\"gpu\",\"addresses\":[${ADDRS}]}"
