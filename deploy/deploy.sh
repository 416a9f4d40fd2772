#!/usr/bin/env bash
# Stands bq-chargeback up in Google Cloud with one command. Idempotent: every step looks up what
# exists first and changes only what is missing, so a second run changes nothing. --dry-run runs
# the look-ups (read-only) and prints the changes it would make, running none. See docs/deploy.md
# and deploy/iam.md for what each step creates and why each grant is needed.
#
#   deploy/deploy.sh --project P --region R (--organization ID | --folder ID | --sink-project P) \
#     --registry FILE|gs://BUCKET/OBJECT [--dataset D] [--location US] [--schedule CRON] \
#     [--report-bucket gs://BUCKET[/PREFIX]] [--storage-locations "US europe-west1"] [--iam-audit] \
#     [--notification-channel projects/P/notificationChannels/N] [--mode function|sink] [--dry-run]
# --iam-audit adds the daily IAM audit (who may bill which project): its function, its job, and
# its account with roles/cloudasset.viewer on the organisation (or folder, or sink project).
# --mode sink runs the pipeline inside BigQuery instead (deploy/sink-mode.sh, docs/deploy.md).
set -euo pipefail

usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
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
trigger_sa="$(account_email bq-chargeback-trigger)"
scheduler_sa="$(account_email bq-chargeback-scheduler)"
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

create_report_bucket

step "Service accounts: one per job (ingest, report, trigger, scheduler, build)"
create_accounts "${accounts[@]}"

step "Least-privilege grants (deploy/iam.md)"
# the ingest function writes its tables: this dataset only
grant roles/bigquery.dataEditor "serviceAccount:$ingest_sa" dataset "$project:$dataset"
for entry in "${project_grants[@]}"; do
  grant "${entry%% *}" "serviceAccount:$(account_email "${entry#* }")" project "$project"
done
grant_report_access
# the ingest function publishes alerts: that topic only
grant roles/pubsub.publisher "serviceAccount:$ingest_sa" topic "$alerts"
[ -z "$registry_bucket" ] || grant roles/storage.objectViewer "serviceAccount:$ingest_sa" bucket "$registry_bucket"
if [ "$iam_audit" = true ]; then
  # the IAM audit writes iam_findings and reads job_costs (this dataset), runs that query (a job),
  # and searches the IAM policies of the scope the sink reads, nothing more
  grant roles/bigquery.dataEditor "serviceAccount:$iam_sa" dataset "$project:$dataset"
  grant roles/bigquery.jobUser "serviceAccount:$iam_sa" project "$project"
  grant roles/cloudasset.viewer "serviceAccount:$iam_sa" "${iam_scope[0]}" "${iam_scope[1]}"
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
stage_functions
ingest_env="$common_env,BQ_CHARGEBACK_ALERTS_TOPIC=projects/$project/topics/$alerts"
# The trigger pushes with its own identity (not the Compute Engine default account, which new
# projects leave without Editor): it gets run.invoker on the ingest service only, below.
deploy_function "$ingest_fn" --entry-point=ingestAuditLog --trigger-topic="$topic" --retry \
  --trigger-service-account="$trigger_sa" --service-account="$ingest_sa" \
  --set-env-vars="$ingest_env" --memory=512Mi
deploy_report_function
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
schedule_monthly_report

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
alert_on_findings
create_policy "$dead_letter_policy_file"

step "Done"
echo "Check it: docs/deploy.md, 'Check each part works'."
