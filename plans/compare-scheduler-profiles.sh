#!/usr/bin/env bash
# The default scheduler profile against bin-packing (NodeResourcesFit with MostAllocated)
# on the cluster-autoscaler day, eight seeds each (SEEDS=N to change) on common random
# numbers; extra arguments go to kubesim compare (--out DIR, --threads N). See
# docs/compare.md for the output.
set -euo pipefail
exec kubesim compare scenarios/cluster-autoscaler.yaml \
    --variant default \
    --variant binpack:scheduler.profile=bin-packing \
    --seeds "${SEEDS:-8}" "$@"
