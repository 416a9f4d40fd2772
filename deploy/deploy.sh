#!/usr/bin/env bash
# Stands bq-chargeback up in Google Cloud with one command; --dry-run prints every step and runs
# none. Idempotent: what exists is left as it is (describe, then create). See docs/deploy.md and
# deploy/iam.md for what each step creates and why each grant is needed.
#
#   deploy/deploy.sh --project P --region R (--organization ID | --folder ID | --sink-project P) \
#     --registry FILE|gs://BUCKET/OBJECT [--dataset D] [--location US] [--schedule CRON] \
#     [--notification-channel projects/P/notificationChannels/N] [--dry-run]
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"

project="" region="" dataset="bq_chargeback" location="US" registry="" schedule="0 6 2 * *"
organization="" folder="" sink_project="" channel="" dry_run=false

usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

fail() {
  echo "deploy.sh: $*" >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case "$1" in
    --project) project="${2:-}"; shift 2 ;;
    --region) region="${2:-}"; shift 2 ;;
    --dataset) dataset="${2:-}"; shift 2 ;;
    --location) location="${2:-}"; shift 2 ;;
    --registry) registry="${2:-}"; shift 2 ;;
    --schedule) schedule="${2:-}"; shift 2 ;;
    --organization) organization="${2:-}"; shift 2 ;;
    --folder) folder="${2:-}"; shift 2 ;;
    --sink-project) sink_project="${2:-}"; shift 2 ;;
    --notification-channel) channel="${2:-}"; shift 2 ;;
    --dry-run) dry_run=true; shift ;;
    -h | --help) usage ;;
    *) fail "unknown option $1 (see --help)" ;;
  esac
done

# Every value that ends up in a command is checked first: no surprises in names or filters.
[[ "$project" =~ ^[a-z][a-z0-9-]{4,28}[a-z0-9]$ ]] || fail "--project: expected a project id, found '$project'"
[[ "$region" =~ ^[a-z]+-[a-z]+[0-9]+$ ]] || fail "--region: expected a region such as europe-west1, found '$region'"
[[ "$dataset" =~ ^[A-Za-z_][A-Za-z0-9_]{0,1023}$ ]] || fail "--dataset: expected letters, digits and _, found '$dataset'"
[[ "$location" =~ ^[A-Za-z]+(-[a-z]+[0-9]+)?$ ]] || fail "--location: expected US, EU or a region, found '$location'"
[ -n "$registry" ] || fail "--registry: expected a registry file or a gs:// URL"
if [[ "$registry" == gs://* ]]; then
  [[ "$registry" =~ ^gs://[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]/.+$ ]] || fail "--registry: expected gs://BUCKET/OBJECT, found '$registry'"
else
  [ -f "$registry" ] || fail "--registry: no such file: $registry"
fi
scopes=0
[ -n "$organization" ] && scopes=$((scopes + 1))
[ -n "$folder" ] && scopes=$((scopes + 1))
[ -n "$sink_project" ] && scopes=$((scopes + 1))
[ "$scopes" -eq 1 ] || fail "give exactly one of --organization, --folder, --sink-project"
[ -z "$organization" ] || [[ "$organization" =~ ^[0-9]{1,20}$ ]] || fail "--organization: expected a numeric id"
[ -z "$folder" ] || [[ "$folder" =~ ^[0-9]{1,20}$ ]] || fail "--folder: expected a numeric id"
[ -z "$sink_project" ] || [[ "$sink_project" =~ ^[a-z][a-z0-9-]{4,28}[a-z0-9]$ ]] || fail "--sink-project: expected a project id"
[ -z "$channel" ] || [[ "$channel" =~ ^projects/[a-z0-9-]+/notificationChannels/[0-9]+$ ]] || fail "--notification-channel: expected projects/P/notificationChannels/N"

topic="bq-chargeback-audit-logs"
dead_letter="bq-chargeback-dead-letter"
alerts="bq-chargeback-alerts"
sink="bq-chargeback"
fn_sa="bq-chargeback-fn@${project}.iam.gserviceaccount.com"
scheduler_sa="bq-chargeback-scheduler@${project}.iam.gserviceaccount.com"

step() { printf '\n== %s\n' "$*"; }

# Prints the command, quoted so it can be pasted, then runs it (not in --dry-run).
run() {
  printf '+'
  printf ' %q' "$@"
  printf '\n'
  if [ "$dry_run" = false ]; then "$@"; fi
}

# True when the describing command finds nothing (always, in --dry-run: every step is shown).
missing() {
  if [ "$dry_run" = true ]; then return 0; fi
  if "$@" >/dev/null 2>&1; then
    printf '= exists: %s\n' "$*"
    return 1
  fi
  return 0
}

step "APIs"
run gcloud services enable bigquery.googleapis.com pubsub.googleapis.com logging.googleapis.com \
  cloudfunctions.googleapis.com run.googleapis.com eventarc.googleapis.com cloudbuild.googleapis.com \
  cloudscheduler.googleapis.com monitoring.googleapis.com artifactregistry.googleapis.com --project="$project"

step "Dataset $project:$dataset ($location) and tables"
if missing bq show --format=none "$project:$dataset"; then
  run bq --location="$location" mk --dataset --description="bq-chargeback: BigQuery cost attribution" "$project:$dataset"
fi
for ddl in "$root"/sql/ddl/*.sql; do
  echo "+ bq query --use_legacy_sql=false --project_id=$project --dataset_id=$project:$dataset < sql/ddl/$(basename "$ddl")"
  if [ "$dry_run" = false ]; then
    bq query --quiet --use_legacy_sql=false --project_id="$project" --dataset_id="$project:$dataset" <"$ddl"
  fi
done

step "Pub/Sub topics: log entries, dead letters, alerts"
for name in "$topic" "$dead_letter" "$alerts"; do
  if missing gcloud pubsub topics describe "$name" --project="$project"; then
    run gcloud pubsub topics create "$name" --project="$project"
  fi
done

step "Service accounts (functions; scheduler)"
if missing gcloud iam service-accounts describe "$fn_sa" --project="$project"; then
  run gcloud iam service-accounts create bq-chargeback-fn --display-name="bq-chargeback functions" --project="$project"
fi
if missing gcloud iam service-accounts describe "$scheduler_sa" --project="$project"; then
  run gcloud iam service-accounts create bq-chargeback-scheduler --display-name="bq-chargeback scheduler" --project="$project"
fi

step "Least-privilege grants of the functions' service account (deploy/iam.md)"
# write job_costs, findings, report tables: this dataset only
run bq add-iam-policy-binding --member="serviceAccount:$fn_sa" --role=roles/bigquery.dataEditor "$project:$dataset"
# run the report queries (jobs) in this project
run gcloud projects add-iam-policy-binding "$project" --member="serviceAccount:$fn_sa" --role=roles/bigquery.jobUser --condition=None
# read INFORMATION_SCHEMA.TABLE_STORAGE of the registered projects
if [ -n "$organization" ]; then
  run gcloud organizations add-iam-policy-binding "$organization" --member="serviceAccount:$fn_sa" --role=roles/bigquery.metadataViewer --condition=None
elif [ -n "$folder" ]; then
  run gcloud resource-manager folders add-iam-policy-binding "$folder" --member="serviceAccount:$fn_sa" --role=roles/bigquery.metadataViewer --condition=None
else
  run gcloud projects add-iam-policy-binding "$sink_project" --member="serviceAccount:$fn_sa" --role=roles/bigquery.metadataViewer --condition=None
fi
# publish alerts: that topic only
run gcloud pubsub topics add-iam-policy-binding "$alerts" --project="$project" --member="serviceAccount:$fn_sa" --role=roles/pubsub.publisher
if [[ "$registry" == gs://* ]]; then
  bucket="${registry#gs://}"
  bucket="gs://${bucket%%/*}"
  # read the registry object
  run gcloud storage buckets add-iam-policy-binding "$bucket" --member="serviceAccount:$fn_sa" --role=roles/storage.objectViewer
fi

step "Log Router sink: exactly the entries the parser uses (deploy/sink-filter.txt)"
filter="$(tr '\n' ' ' <"$here/sink-filter.txt")"
destination="pubsub.googleapis.com/projects/$project/topics/$topic"
if [ -n "$organization" ]; then scope=(--organization="$organization" --include-children)
elif [ -n "$folder" ]; then scope=(--folder="$folder" --include-children)
else scope=(--project="$sink_project"); fi
if missing gcloud logging sinks describe "$sink" "${scope[0]}"; then
  run gcloud logging sinks create "$sink" "$destination" "${scope[@]}" --log-filter="$filter"
fi
if [ "$dry_run" = true ]; then
  writer="serviceAccount:WRITER_IDENTITY_OF_THE_SINK"
  echo "+ gcloud logging sinks describe $sink ${scope[0]} --format=value(writerIdentity)"
else
  writer="$(gcloud logging sinks describe "$sink" "${scope[0]}" --format='value(writerIdentity)')"
fi
# the sink's writer identity may publish to the log topic, nothing else
run gcloud pubsub topics add-iam-policy-binding "$topic" --project="$project" --member="$writer" --role=roles/pubsub.publisher

step "Functions (gen2, nodejs22): ingestAuditLog on the topic, buildChargebackReport on authenticated HTTP"
if [ "$dry_run" = true ]; then stage="STAGED_SOURCE_DIR"; else stage="$(mktemp -d)"; fi
run "$here/stage-source.sh" "$stage" "$registry"
registry_env="registry.yaml"
[[ "$registry" == gs://* ]] && registry_env="$registry"
env_vars="GOOGLE_CLOUD_PROJECT=$project,BQ_CHARGEBACK_DATASET=$dataset,BQ_CHARGEBACK_REGISTRY=$registry_env,BQ_CHARGEBACK_ALERTS_TOPIC=projects/$project/topics/$alerts"
run gcloud functions deploy bq-chargeback-ingest --gen2 --runtime=nodejs22 --region="$region" --project="$project" \
  --source="$stage" --entry-point=ingestAuditLog --trigger-topic="$topic" --retry \
  --service-account="$fn_sa" --run-service-account="$fn_sa" --set-env-vars="$env_vars" --memory=512Mi
run gcloud functions deploy bq-chargeback-report --gen2 --runtime=nodejs22 --region="$region" --project="$project" \
  --source="$stage" --entry-point=buildChargebackReport --trigger-http --no-allow-unauthenticated \
  --service-account="$fn_sa" --run-service-account="$fn_sa" --set-env-vars="$env_vars" --memory=1Gi --timeout=540s

step "Dead-letter topic on the trigger's subscription (after 10 failed deliveries)"
if [ "$dry_run" = true ]; then
  subscription="SUBSCRIPTION_OF_THE_EVENTARC_TRIGGER"
  number="PROJECT_NUMBER"
  echo "+ gcloud functions describe bq-chargeback-ingest --gen2 --region=$region --format=value(eventTrigger.pubsubTopic,serviceConfig.service) ... (find the trigger's subscription)"
else
  trigger="$(gcloud functions describe bq-chargeback-ingest --gen2 --region="$region" --project="$project" --format='value(eventTrigger.trigger)')"
  subscription="$(gcloud eventarc triggers describe "$trigger" --location="$region" --project="$project" --format='value(transport.pubsub.subscription)')"
  number="$(gcloud projects describe "$project" --format='value(projectNumber)')"
fi
pubsub_agent="serviceAccount:service-${number}@gcp-sa-pubsub.iam.gserviceaccount.com"
run gcloud pubsub subscriptions update "$subscription" --project="$project" --dead-letter-topic="$dead_letter" --max-delivery-attempts=10
# Pub/Sub's own agent must publish dead letters and acknowledge them on the subscription
run gcloud pubsub topics add-iam-policy-binding "$dead_letter" --project="$project" --member="$pubsub_agent" --role=roles/pubsub.publisher
run gcloud pubsub subscriptions add-iam-policy-binding "$subscription" --project="$project" --member="$pubsub_agent" --role=roles/pubsub.subscriber

step "Scheduler: the monthly report, authenticated with OIDC"
if [ "$dry_run" = true ]; then url="https://REPORT_FUNCTION_URL"; else
  url="$(gcloud functions describe bq-chargeback-report --gen2 --region="$region" --project="$project" --format='value(serviceConfig.uri)')"
fi
# the scheduler may invoke the report function, nothing else
run gcloud run services add-iam-policy-binding bq-chargeback-report --region="$region" --project="$project" \
  --member="serviceAccount:$scheduler_sa" --role=roles/run.invoker
if missing gcloud scheduler jobs describe bq-chargeback-monthly --location="$region" --project="$project"; then
  run gcloud scheduler jobs create http bq-chargeback-monthly --location="$region" --project="$project" \
    --schedule="$schedule" --time-zone="America/Los_Angeles" --uri="$url" --http-method=POST \
    --headers=Content-Type=application/json --message-body='{}' \
    --oidc-service-account-email="$scheduler_sa" --oidc-token-audience="$url"
fi

step "Alerting: log-based metric and alert policy"
if missing gcloud logging metrics describe bq_chargeback_findings --project="$project"; then
  run gcloud logging metrics create bq_chargeback_findings --project="$project" --config-from-file="$here/metric.yaml"
fi
policy=(gcloud alpha monitoring policies create --project="$project" --policy-from-file="$here/alert-policy.json")
[ -z "$channel" ] || policy+=(--notification-channels="$channel")
run "${policy[@]}"

step "Done"
echo "Send a test entry: gcloud pubsub topics publish $topic --project=$project --message=\"\$(cat test/fixtures/functions/v2-jobchange-done.json)\""
echo "Then: bq query --use_legacy_sql=false 'SELECT * FROM \`$project.$dataset.job_costs\` ORDER BY ingested_at DESC LIMIT 5'"
