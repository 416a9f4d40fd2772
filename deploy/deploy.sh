#!/usr/bin/env bash
# Stands bq-chargeback up in Google Cloud with one command. Idempotent: every step looks up what
# exists first and changes only what is missing, so a second run changes nothing. --dry-run runs
# the look-ups (read-only) and prints the changes it would make, running none. See docs/deploy.md
# and deploy/iam.md for what each step creates and why each grant is needed.
#
#   deploy/deploy.sh --project P --region R (--organization ID | --folder ID | --sink-project P) \
#     --registry FILE|gs://BUCKET/OBJECT [--dataset D] [--location US] [--schedule CRON] \
#     [--report-bucket gs://BUCKET[/PREFIX]] [--storage-locations "US europe-west1"] [--iam-audit] \
#     [--notification-channel projects/P/notificationChannels/N] [--dry-run]
# --iam-audit adds the daily IAM audit (who may bill which project): its function, its job, and
# its account with roles/cloudasset.viewer on the organisation (or folder, or sink project).
set -euo pipefail

usage() {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}
# shellcheck source=deploy/common.sh
source "$(dirname "$0")/common.sh"
parse_options "$@"
if [ "$mode" = sink ]; then
  # shellcheck source=deploy/sink-mode.sh
  source "$here/sink-mode.sh"
  exit 0
fi

ingest_sa="$(account_email bq-chargeback-ingest)"
report_sa="$(account_email bq-chargeback-report)"
trigger_sa="$(account_email bq-chargeback-trigger)"
scheduler_sa="$(account_email bq-chargeback-scheduler)"
build_sa="$(account_email bq-chargeback-build)"
iam_sa="$(account_email "$iam_account")"
[ "$iam_audit" = false ] || accounts+=("$iam_account")

step "APIs"
apis=(bigquery pubsub logging cloudfunctions run eventarc cloudbuild cloudscheduler monitoring artifactregistry iam storage)
[ "$iam_audit" = false ] || apis+=(cloudasset)
enable_apis "${apis[@]}"

step "Dataset $project:$dataset ($location) and tables"
if missing bq show --format=none "$project:$dataset"; then
  run bq --location="$location" mk --dataset --description="bq-chargeback: BigQuery cost attribution" "$project:$dataset"
fi
for ddl in "$root"/sql/ddl/*.sql; do
  table="$(basename "$ddl" .sql)"
  if missing bq show --format=none "$project:$dataset.$table"; then
    echo "+ bq query --use_legacy_sql=false --project_id=$project --dataset_id=$project:$dataset < sql/ddl/$table.sql"
    if [ "$dry_run" = false ]; then
      bq query --quiet --use_legacy_sql=false --project_id="$project" --dataset_id="$project:$dataset" <"$ddl"
    fi
  fi
done

step "Pub/Sub: topics for log entries, dead letters and alerts; subscriptions that keep the last two"
for name in "$topic" "$dead_letter" "$alerts"; do
  if missing gcloud pubsub topics describe "$name" --project="$project"; then
    run gcloud pubsub topics create "$name" --project="$project"
  fi
done
# Without a subscription Pub/Sub drops what is published: dead letters would be lost.
for pair in "$dead_letter_hold:$dead_letter" "$alerts_hold:$alerts"; do
  if missing gcloud pubsub subscriptions describe "${pair%%:*}" --project="$project"; then
    run gcloud pubsub subscriptions create "${pair%%:*}" --topic="${pair#*:}" --project="$project" \
      --message-retention-duration=7d --expiration-period=never
  fi
done

if [ -n "$report_bucket" ]; then
  step "Report bucket $report_bucket_name (report.html of each period)"
  if missing gcloud storage buckets describe "$report_bucket_name" --project="$project"; then
    run gcloud storage buckets create "$report_bucket_name" --project="$project" --location="$region" \
      --uniform-bucket-level-access
  fi
fi

step "Service accounts: one per job (ingest, report, trigger, scheduler, build)"
for account in "${accounts[@]}"; do
  if missing gcloud iam service-accounts describe "$(account_email "$account")" --project="$project"; then
    run gcloud iam service-accounts create "$account" --display-name="$account" --project="$project"
  fi
done

step "Least-privilege grants (deploy/iam.md)"
# both functions write their tables: this dataset only
grant roles/bigquery.dataEditor "serviceAccount:$ingest_sa" dataset "$project:$dataset"
grant roles/bigquery.dataEditor "serviceAccount:$report_sa" dataset "$project:$dataset"
for entry in "${project_grants[@]}"; do
  grant "${entry%% *}" "serviceAccount:$(account_email "${entry#* }")" project "$project"
done
# the report reads INFORMATION_SCHEMA.TABLE_STORAGE of each registered project: those projects only
projects="$(registry_projects)"
for registered in $projects; do
  grant roles/bigquery.metadataViewer "serviceAccount:$report_sa" project "$registered"
done
# the ingest function publishes alerts: that topic only
grant roles/pubsub.publisher "serviceAccount:$ingest_sa" topic "$alerts"
if [ -n "$registry_bucket" ]; then
  for account in "$ingest_sa" "$report_sa"; do
    grant roles/storage.objectViewer "serviceAccount:$account" bucket "$registry_bucket"
  done
fi
if [ "$iam_audit" = true ]; then
  # the IAM audit writes iam_findings and reads job_costs (this dataset), runs that query (a job),
  # and searches the IAM policies of the scope the sink reads, nothing more
  grant roles/bigquery.dataEditor "serviceAccount:$iam_sa" dataset "$project:$dataset"
  grant roles/bigquery.jobUser "serviceAccount:$iam_sa" project "$project"
  grant roles/cloudasset.viewer "serviceAccount:$iam_sa" "${iam_scope[0]}" "${iam_scope[1]}"
fi
if [ -n "$report_bucket" ]; then
  # objectUser: writing report-FROM-TO.html again for a re-run period replaces it (needs delete)
  grant roles/storage.objectUser "serviceAccount:$report_sa" bucket "$report_bucket_name"
fi

step "Log Router sink: exactly the entries the parser uses (deploy/sink-filter.txt)"
filter="$(tr '\n' ' ' <"$here/sink-filter.txt")"
destination="pubsub.googleapis.com/projects/$project/topics/$topic"
if missing gcloud logging sinks describe "$sink" "${sink_scope[0]}"; then
  include_children=()
  [ -n "$sink_project" ] || include_children=(--include-children)
  run gcloud logging sinks create "$sink" "$destination" "${sink_scope[@]}" "${include_children[@]}" --log-filter="$filter"
fi
writer="$(look_up gcloud logging sinks describe "$sink" "${sink_scope[0]}" --format='value(writerIdentity)' || true)"
# the sink's writer identity may publish to the log topic, nothing else
grant roles/pubsub.publisher "${writer:-serviceAccount:WRITER_IDENTITY_OF_THE_SINK}" topic "$topic"

step "Functions (gen2, Node.js 22, JavaScript built by tsc): ingest on the topic, report on authenticated HTTP"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
"$here/stage-source.sh" "$stage" "$registry" >/dev/null
registry_env="registry.yaml"
[[ "$registry" == gs://* ]] && registry_env="$registry"
common_env="GOOGLE_CLOUD_PROJECT=$project,BQ_CHARGEBACK_DATASET=$dataset,BQ_CHARGEBACK_REGISTRY=$registry_env"
# the report snapshots storage in each location where the organisation keeps data
report_env="$common_env,BQ_CHARGEBACK_LOCATION=$location,BQ_CHARGEBACK_STORAGE_LOCATIONS=$storage_locations"
[ -z "$report_bucket" ] || report_env="$report_env,BQ_CHARGEBACK_REPORT_BUCKET=$report_bucket"
ingest_env="$common_env,BQ_CHARGEBACK_ALERTS_TOPIC=projects/$project/topics/$alerts"
source_hash="$(cd "$stage" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64)"
build_account="projects/$project/serviceAccounts/$build_sa"

# deploy_function NAME ARGS...: deploys unless the function already runs this source with these
# settings (a label holds their hash), so a second run does not roll out a new revision.
deploy_function() {
  local name="$1" hash
  shift
  hash="$(printf '%s\n' "$source_hash" "$@" | sha256sum | cut -c1-40)"
  if [ "$(look_up gcloud functions describe "$name" --gen2 --region="$region" --project="$project" \
    --format='value(labels.deploy_hash)' || true)" = "$hash" ]; then
    echo "= up to date: $name"
    return 0
  fi
  run gcloud functions deploy "$name" --gen2 --runtime=nodejs22 --region="$region" --project="$project" \
    --source="$stage" --build-service-account="$build_account" "$@" --update-labels="deploy_hash=$hash"
}
# The trigger pushes with its own identity (not the Compute Engine default account, which new
# projects leave without Editor): it gets run.invoker on the ingest service only, below.
deploy_function "$ingest_fn" --entry-point=ingestAuditLog --trigger-topic="$topic" --retry \
  --trigger-service-account="$trigger_sa" --service-account="$ingest_sa" \
  --set-env-vars="$ingest_env" --memory=512Mi
deploy_function "$report_fn" --entry-point=buildChargebackReport --trigger-http --no-allow-unauthenticated \
  --service-account="$report_sa" --set-env-vars="$report_env" --memory=1Gi --timeout=1800s
grant roles/run.invoker "serviceAccount:$trigger_sa" service "$ingest_fn"
if [ "$iam_audit" = true ]; then
  deploy_function "$iam_fn" --entry-point=auditIamPolicies --trigger-http --no-allow-unauthenticated \
    --service-account="$iam_sa" --set-env-vars="$common_env,BQ_CHARGEBACK_IAM_SCOPE=${iam_scope[2]}" \
    --memory=512Mi --timeout=540s
fi

step "Dead letters: after 10 failed deliveries, to $dead_letter (kept by $dead_letter_hold)"
trigger="$(look_up gcloud functions describe "$ingest_fn" --gen2 --region="$region" --project="$project" --format='value(eventTrigger.trigger)' || true)"
subscription=""
if [ -n "$trigger" ]; then
  subscription="$(look_up gcloud eventarc triggers describe "$trigger" --location="$region" --project="$project" --format='value(transport.pubsub.subscription)' || true)"
fi
subscription="${subscription:-SUBSCRIPTION_OF_THE_EVENTARC_TRIGGER}"
number="$(look_up gcloud projects describe "$project" --format='value(projectNumber)' || true)"
pubsub_agent="serviceAccount:service-${number:-PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com"
current="$(look_up gcloud pubsub subscriptions describe "$subscription" --project="$project" --format='value(deadLetterPolicy.deadLetterTopic)' || true)"
if [ "${current##*/}" = "$dead_letter" ]; then
  echo "= dead-letter policy set on $subscription"
else
  run gcloud pubsub subscriptions update "$subscription" --project="$project" --dead-letter-topic="$dead_letter" --max-delivery-attempts=10
fi
# Pub/Sub's own agent publishes dead letters and acknowledges them on the subscription; it mints
# the trigger's OIDC tokens (needed where Pub/Sub was enabled before 8 April 2021).
grant roles/pubsub.publisher "$pubsub_agent" topic "$dead_letter"
grant roles/pubsub.subscriber "$pubsub_agent" subscription "$subscription"
grant roles/iam.serviceAccountTokenCreator "$pubsub_agent" account "$trigger_sa"

step "Scheduler: the monthly report, authenticated with OIDC"
url="$(look_up gcloud functions describe "$report_fn" --gen2 --region="$region" --project="$project" --format='value(serviceConfig.uri)' || true)"
url="${url:-https://REPORT_FUNCTION_URL}"
# the scheduler may invoke the report function, nothing else
grant roles/run.invoker "serviceAccount:$scheduler_sa" service "$report_fn"
# Scheduler's default attempt deadline is 180 s; the report may run up to the function's 1800 s.
# A retry is safe: each run replaces its period's rows.
schedule_settings=(--attempt-deadline=1800s --max-retry-attempts=2 --min-backoff=600s)
job_state="$(look_up gcloud scheduler jobs describe "$scheduler_job" --location="$region" --project="$project" --format='value(attemptDeadline,retryConfig.retryCount)' || true)"
if [ -z "$job_state" ]; then
  run gcloud scheduler jobs create http "$scheduler_job" --location="$region" --project="$project" \
    --schedule="$schedule" --time-zone="America/Los_Angeles" --uri="$url" --http-method=POST \
    --headers=Content-Type=application/json --message-body='{}' "${schedule_settings[@]}" \
    --oidc-service-account-email="$scheduler_sa" --oidc-token-audience="$url"
elif [ "$job_state" != "$(printf '1800s\t2')" ]; then
  run gcloud scheduler jobs update http "$scheduler_job" --location="$region" --project="$project" \
    "${schedule_settings[@]}"
else
  echo "= exists: scheduler job $scheduler_job (deadline 1800s, 2 retries)"
fi

if [ "$iam_audit" = true ]; then
  step "Scheduler: the daily IAM audit, authenticated with OIDC"
  iam_url="$(look_up gcloud functions describe "$iam_fn" --gen2 --region="$region" --project="$project" --format='value(serviceConfig.uri)' || true)"
  iam_url="${iam_url:-https://IAM_FUNCTION_URL}"
  grant roles/run.invoker "serviceAccount:$scheduler_sa" service "$iam_fn"
  # Its alert lines are the ingest's: the findings metric and policy below count its critical ones.
  if missing gcloud scheduler jobs describe "$iam_job" --location="$region" --project="$project"; then
    run gcloud scheduler jobs create http "$iam_job" --location="$region" --project="$project" \
      --schedule="0 7 * * *" --time-zone="America/Los_Angeles" --uri="$iam_url" --http-method=POST \
      --headers=Content-Type=application/json --message-body='{}' --attempt-deadline=540s \
      --oidc-service-account-email="$scheduler_sa" --oidc-token-audience="$iam_url"
  fi
fi

step "Alerting: log-based metric, a policy on findings, a policy on dead letters"
if missing gcloud logging metrics describe "$metric" --project="$project"; then
  run gcloud logging metrics create "$metric" --project="$project" --config-from-file="$here/metric.yaml"
fi
# create_policy FILE [ATTEMPTS]: by display name, once. Alert policies are only in gcloud alpha
# (and beta); a policy on a log-based metric created moments ago is refused (NOT_FOUND) until
# the metric reaches Cloud Monitoring, which takes minutes: retried.
create_policy() {
  local file="$1" attempts="${2:-1}" name
  name="$("$node22" -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).displayName' "$file")"
  if [ -n "$(look_up gcloud alpha monitoring policies list --project="$project" --filter="displayName=\"$name\"" --format='value(name)' || true)" ]; then
    echo "= exists: alert policy '$name'"
    return 0
  fi
  local command=(gcloud alpha monitoring policies create --project="$project" --policy-from-file="$file")
  [ -z "$channel" ] || command+=(--notification-channels="$channel")
  run_retried "$attempts" "${command[@]}"
}
create_policy "$findings_policy_file" 30
create_policy "$dead_letter_policy_file"

step "Done"
echo "Check it: docs/deploy.md, 'Check each part works'."
