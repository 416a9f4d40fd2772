#!/usr/bin/env bash
# Removes what deploy/deploy.sh created, in reverse order, grants included (a deleted service
# account's bindings would otherwise stay behind as deleted:serviceAccount:... entries); give it
# the options deploy.sh was given. The parts of both modes are removed where they exist, so
# --mode changes nothing here. --dry-run prints every step and runs none. The dataset is kept
# unless --delete-data is given: it holds the chargeback history.
#
#   deploy/teardown.sh --project P --region R (--organization ID | --folder ID | --sink-project P) \
#     --registry FILE|gs://BUCKET/OBJECT [--dataset D] [--report-bucket gs://B] [--delete-data] [--dry-run]
set -euo pipefail

usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}
# shellcheck source=deploy/common.sh
source "$(dirname "$0")/common.sh"
parse_options "$@"

report_sa="serviceAccount:$(account_email bq-chargeback-report)"
ingest_sa="serviceAccount:$(account_email bq-chargeback-ingest)"

iam_sa="serviceAccount:$(account_email "$iam_account")"
# The IAM audit's parts are removed when they exist, whether or not --iam-audit is given; so
# are the sink mode's.
accounts+=("$iam_account")
for account in "${sink_accounts[@]}"; do
  [[ " ${accounts[*]} " == *" $account "* ]] || accounts+=("$account")
done
pipeline_sa="serviceAccount:$(account_email bq-chargeback-pipeline)"
alerts_sa="serviceAccount:$(account_email bq-chargeback-sink-alerts)"

step "Scheduler jobs, functions"
for job in "$scheduler_job" "$iam_job"; do
  if look_up gcloud scheduler jobs describe "$job" --location="$region" --project="$project" >/dev/null; then
    run gcloud scheduler jobs delete "$job" --location="$region" --project="$project" --quiet
  fi
done
for fn in "$report_fn" "$ingest_fn" "$iam_fn" "$sink_alerts_fn"; do
  if look_up gcloud functions describe "$fn" --gen2 --region="$region" --project="$project" >/dev/null; then
    run gcloud functions delete "$fn" --gen2 --region="$region" --project="$project" --quiet
  fi
done

step "Alerting: both alert policies, the log-based metric"
for file in "$findings_policy_file" "$dead_letter_policy_file"; do
  name="$("$node22" -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).displayName' "$file")"
  for policy in $(look_up gcloud alpha monitoring policies list --project="$project" --filter="displayName=\"$name\"" --format='value(name)' || true); do
    run gcloud alpha monitoring policies delete "$policy" --project="$project" --quiet
  done
done
if look_up gcloud logging metrics describe "$metric" --project="$project" >/dev/null; then
  run gcloud logging metrics delete "$metric" --project="$project" --quiet
fi

step "Sink mode's scheduled query"
existing="$(transfer_config || true)"
[ -z "$existing" ] || run bq rm -f --transfer_config "${existing%%$'\t'*}"

step "Log Router sinks (to Pub/Sub, to BigQuery), and their writers' grants"
writer="$(look_up gcloud logging sinks describe "$sink" "${sink_scope[0]}" --format='value(writerIdentity)' || true)"
if [ -n "$writer" ]; then
  revoke roles/pubsub.publisher "$writer" topic "$topic"
  run gcloud logging sinks delete "$sink" "${sink_scope[0]}" --quiet
fi
writer="$(look_up gcloud logging sinks describe "$bigquery_sink" "${sink_scope[0]}" --format='value(writerIdentity)' || true)"
if [ -n "$writer" ]; then
  revoke roles/bigquery.dataEditor "$writer" dataset "$project:$dataset"
  run gcloud logging sinks delete "$bigquery_sink" "${sink_scope[0]}" --quiet
fi

step "Grants outside the resources removed here (projects, dataset, buckets)"
for entry in "${project_grants[@]}"; do
  revoke "${entry%% *}" "serviceAccount:$(account_email "${entry#* }")" project "$project"
done
for registered in $(registry_projects); do
  revoke roles/bigquery.metadataViewer "$report_sa" project "$registered"
done
revoke roles/bigquery.dataEditor "$ingest_sa" dataset "$project:$dataset"
revoke roles/bigquery.dataEditor "$report_sa" dataset "$project:$dataset"
revoke roles/bigquery.dataEditor "$iam_sa" dataset "$project:$dataset"
revoke roles/bigquery.jobUser "$iam_sa" project "$project"
revoke roles/cloudasset.viewer "$iam_sa" "${iam_scope[0]}" "${iam_scope[1]}"
for account in "$pipeline_sa" "$alerts_sa"; do
  revoke roles/bigquery.dataEditor "$account" dataset "$project:$dataset"
  revoke roles/bigquery.jobUser "$account" project "$project"
done
if [ -n "$registry_bucket" ]; then
  revoke roles/storage.objectViewer "$ingest_sa" bucket "$registry_bucket"
  revoke roles/storage.objectViewer "$report_sa" bucket "$registry_bucket"
  revoke roles/storage.objectViewer "$alerts_sa" bucket "$registry_bucket"
fi
if [ -n "$report_bucket" ]; then
  revoke roles/storage.objectUser "$report_sa" bucket "$report_bucket_name"
  echo "= kept the bucket $report_bucket_name (the published reports)"
fi

step "Subscriptions and topics (their grants go with them), service accounts"
for name in "$dead_letter_hold" "$alerts_hold"; do
  if look_up gcloud pubsub subscriptions describe "$name" --project="$project" >/dev/null; then
    run gcloud pubsub subscriptions delete "$name" --project="$project" --quiet
  fi
done
for name in "$topic" "$dead_letter" "$alerts" "$sink_runs_topic"; do
  if look_up gcloud pubsub topics describe "$name" --project="$project" >/dev/null; then
    run gcloud pubsub topics delete "$name" --project="$project" --quiet
  fi
done
for account in "${accounts[@]}"; do
  if look_up gcloud iam service-accounts describe "$(account_email "$account")" --project="$project" >/dev/null; then
    run gcloud iam service-accounts delete "$(account_email "$account")" --project="$project" --quiet
  fi
done

step "Dataset"
if [ "$delete_data" = true ]; then
  if look_up bq show --format=none "$project:$dataset" >/dev/null; then
    run bq rm -r -f --dataset "$project:$dataset"
  fi
else
  echo "= kept the dataset $project:$dataset (its history); --delete-data removes it"
fi
