#!/usr/bin/env bash
# A kubesim plan spread over a Slurm job array: each array task evaluates one shard
# (kubesim reads SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT),
# then one dependent job merges the shards into what a single machine would have written.
#
#   sbatch --array=0-3 deploy/slurm/plan-array.sh                    # 4 shards
#   sbatch --dependency=afterok:<JOBID> --wrap \
#       "kubesim merge reports/plan-shards/shard-* --out reports/plan-merged"
#
# PLAN and OUT may be overridden in the environment (sbatch --export=ALL,PLAN=...).
#SBATCH --job-name=kubesim-plan
#SBATCH --cpus-per-task=2
#SBATCH --output=kubesim-plan-%A_%a.log
set -euo pipefail
PLAN="${PLAN:-plans/quickstart-flash-sale.yaml}"
OUT="${OUT:-reports/plan-shards}"
: "${SLURM_ARRAY_TASK_ID:?run this script as a Slurm array task (sbatch --array=0-N)}"
exec kubesim plan "$PLAN" \
    --threads "${SLURM_CPUS_PER_TASK:-1}" \
    --quiet \
    --out "$OUT/shard-$SLURM_ARRAY_TASK_ID"
