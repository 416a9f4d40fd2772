#!/usr/bin/env bash
# Removes what deploy/deploy.sh created, in reverse order; --dry-run prints every step and runs
# none. The dataset is kept unless --delete-data is given: it holds the chargeback history.
#
#   deploy/teardown.sh --project P --region R (--organization ID | --folder ID | --sink-project P) \
#     [--dataset D] [--delete-data] [--dry-run]
set -euo pipefail

project="" region="" dataset="bq_chargeback" organization="" folder="" sink_project=""
dry_run=false delete_data=false

fail() {
  echo "teardown.sh: $*" >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case "$1" in
    --project) project="${2:-}"; shift 2 ;;
    --region) region="${2:-}"; shift 2 ;;
    --dataset) dataset="${2:-}"; shift 2 ;;
    --organization) organization="${2:-}"; shift 2 ;;
    --folder) folder="${2:-}"; shift 2 ;;
    --sink-project) sink_project="${2:-}"; shift 2 ;;
    --delete-data) delete_data=true; shift ;;
    --dry-run) dry_run=true; shift ;;
    -h | --help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
    *) fail "unknown option $1 (see --help)" ;;
  esac
done

[[ "$project" =~ ^[a-z][a-z0-9-]{4,28}[a-z0-9]$ ]] || fail "--project: expected a project id, found '$project'"
[[ "$region" =~ ^[a-z]+-[a-z]+[0-9]+$ ]] || fail "--region: expected a region such as europe-west1, found '$region'"
[[ "$dataset" =~ ^[A-Za-z_][A-Za-z0-9_]{0,1023}$ ]] || fail "--dataset: expected letters, digits and _, found '$dataset'"
if [ -n "$organization" ]; then
  [[ "$organization" =~ ^[0-9]{1,20}$ ]] || fail "--organization: expected a numeric id"
  scope=(--organization="$organization")
elif [ -n "$folder" ]; then
  [[ "$folder" =~ ^[0-9]{1,20}$ ]] || fail "--folder: expected a numeric id"
  scope=(--folder="$folder")
elif [ -n "$sink_project" ]; then
  [[ "$sink_project" =~ ^[a-z][a-z0-9-]{4,28}[a-z0-9]$ ]] || fail "--sink-project: expected a project id"
  scope=(--project="$sink_project")
else
  fail "give one of --organization, --folder, --sink-project (where the sink is)"
fi

# Prints the command, then runs it (not in --dry-run); a resource already gone is not an error.
run() {
  printf '+'
  printf ' %q' "$@"
  printf '\n'
  if [ "$dry_run" = false ]; then "$@" || echo "  (not there, or already removed)"; fi
}

run gcloud scheduler jobs delete bq-chargeback-monthly --location="$region" --project="$project" --quiet
run gcloud functions delete bq-chargeback-report --gen2 --region="$region" --project="$project" --quiet
run gcloud functions delete bq-chargeback-ingest --gen2 --region="$region" --project="$project" --quiet
run gcloud logging sinks delete bq-chargeback "${scope[@]}" --quiet
run gcloud logging metrics delete bq_chargeback_findings --project="$project" --quiet
for topic in bq-chargeback-audit-logs bq-chargeback-dead-letter bq-chargeback-alerts; do
  run gcloud pubsub topics delete "$topic" --project="$project" --quiet
done
for account in bq-chargeback-fn bq-chargeback-scheduler; do
  run gcloud iam service-accounts delete "$account@$project.iam.gserviceaccount.com" --project="$project" --quiet
done
if [ "$delete_data" = true ]; then
  run bq rm -r -f --dataset "$project:$dataset"
else
  echo "= kept the dataset $project:$dataset (its history); --delete-data removes it"
fi
echo "The alert policy 'bq-chargeback: free ride or unexpected billing project' is left for you to delete in Cloud Monitoring."
