# shellcheck shell=bash
# shellcheck disable=SC2154 # project, dataset, helpers ...: set by common.sh, which deploy.sh sources first
# deploy.sh --mode sink: the whole pipeline inside BigQuery (sql/README.md, "sink/"). A Log
# Router sink writes the audit logs into the dataset's partitioned tables; the registry and the
# price book are pushed as tables; a scheduled query (BigQuery Data Transfer Service) runs
# sql/sink every few hours. No function per entry: one function per run raises the run's alerts
# (raiseSinkAlerts, on the run notification topic), and the monthly report is function mode's.
# Sourced by deploy.sh after parse_options, with common.sh's helpers: every step looks up first,
# --dry-run changes nothing.
#
# Why scheduled queries and not Dataform: the pipeline is one fixed script of eight statements
# with one parameter (@run_time, which the Data Transfer Service sets); Dataform would add a
# repository, a workflow configuration and a release configuration to run the same SQL, and
# its incremental tables assume one SELECT per table, where findings need deletes as well.

pipeline_sa="$(account_email bq-chargeback-pipeline)"
alerts_sa="$(account_email bq-chargeback-sink-alerts)"
trigger_sa="$(account_email bq-chargeback-trigger)"
sink_filter="$(tr '\n' ' ' <"$here/sink-filter.txt")"

step "APIs (sink mode)"
# the run notification and its function (Pub/Sub, Cloud Functions on Cloud Run through Eventarc,
# built by Cloud Build into Artifact Registry), and the monthly report (Cloud Scheduler)
enable_apis bigquery bigquerydatatransfer logging monitoring iam pubsub cloudfunctions run eventarc \
  cloudbuild artifactregistry cloudscheduler storage

step "Dataset $project:$dataset ($location): report tables (sql/ddl), registry and run tables (sql/sink/ddl)"
if missing bq show --format=none "$project:$dataset"; then
  run bq --location="$location" mk --dataset --description="bq-chargeback: BigQuery cost attribution (sink mode)" "$project:$dataset"
fi
for ddl in "$root"/sql/ddl/*.sql "$root"/sql/sink/ddl/*.sql; do
  table="$(basename "$ddl" .sql)"
  if missing bq show --format=none "$project:$dataset.$table"; then
    echo "+ bq query --use_legacy_sql=false --project_id=$project --dataset_id=$project:$dataset < ${ddl#"$root"/}"
    if [ "$dry_run" = false ]; then
      bq query --quiet --use_legacy_sql=false --project_id="$project" --dataset_id="$project:$dataset" <"$ddl"
    fi
  fi
done

step "Log Router sink into $dataset: partitioned tables, the filter of deploy/sink-filter.txt"
# The sink creates cloudaudit_googleapis_com_data_access itself, partitioned by the entry's
# timestamp (--use-partitioned-tables), on its first write.
if missing gcloud logging sinks describe "$bigquery_sink" "${sink_scope[0]}"; then
  include_children=()
  [ -n "$sink_project" ] || include_children=(--include-children)
  run gcloud logging sinks create "$bigquery_sink" "bigquery.googleapis.com/projects/$project/datasets/$dataset" \
    "${sink_scope[@]}" "${include_children[@]}" --use-partitioned-tables --log-filter="$sink_filter"
fi
writer="$(look_up gcloud logging sinks describe "$bigquery_sink" "${sink_scope[0]}" --format='value(writerIdentity)' || true)"
# the sink's writer identity writes this dataset only
grant roles/bigquery.dataEditor "${writer:-serviceAccount:WRITER_IDENTITY_OF_THE_SINK}" dataset "$project:$dataset"

step "Registry and price book as tables (bq-chargeback registry push)"
cli=("$node22" "$root/bin/bq-chargeback.js" registry push --registry "$registry")
push_env=(env "GOOGLE_CLOUD_PROJECT=$project" "BQ_CHARGEBACK_DATASET=$dataset")
# validated here, before anything is created in the sink's dataset
"${push_env[@]}" "${cli[@]}" --dry-run >/dev/null || fail "--registry: bq-chargeback registry push does not accept $registry"
# The push looks itself up: a version already in registry_versions is not written again.
run "${push_env[@]}" "${cli[@]}"

create_report_bucket

step "Service accounts: one per job (scheduled query, alerts, trigger, build, report, scheduler)"
create_accounts "${sink_accounts[@]}"

step "Least-privilege grants (deploy/iam.md)"
# it reads the sink's tables and the registry and writes the outputs: this dataset only; it runs
# query jobs in this project
grant roles/bigquery.dataEditor "serviceAccount:$pipeline_sa" dataset "$project:$dataset"
grant roles/bigquery.jobUser "serviceAccount:$pipeline_sa" project "$project"
# the Data Transfer Service's agent mints the account's tokens for each run
number="$(look_up gcloud projects describe "$project" --format='value(projectNumber)' || true)"
transfer_agent="serviceAccount:service-${number:-PROJECT_NUMBER}@gcp-sa-bigquerydatatransfer.iam.gserviceaccount.com"
grant roles/iam.serviceAccountTokenCreator "$transfer_agent" account "$pipeline_sa"
# the alerts function reads findings and claims a run in sink_runs (an UPDATE: dataEditor, on this
# dataset only), with query jobs in this project (jobUser)
grant roles/bigquery.dataEditor "serviceAccount:$alerts_sa" dataset "$project:$dataset"
grant roles/bigquery.jobUser "serviceAccount:$alerts_sa" project "$project"
[ -z "$registry_bucket" ] || grant roles/storage.objectViewer "serviceAccount:$alerts_sa" bucket "$registry_bucket"
# the build account's roles and the report's job runs
for entry in "${project_grants[@]}"; do
  grant "${entry%% *}" "serviceAccount:$(account_email "${entry#* }")" project "$project"
done
grant_report_access

step "Pub/Sub: the topic of the scheduled query's run notifications"
if missing gcloud pubsub topics describe "$sink_runs_topic" --project="$project"; then
  run gcloud pubsub topics create "$sink_runs_topic" --project="$project"
fi
# the Data Transfer Service's agent publishes each finished run there, and nowhere else
grant roles/pubsub.publisher "$transfer_agent" topic "$sink_runs_topic"

step "Scheduled query: sql/sink every $sink_every, incremental (3 days of partitions, MERGE)"
# The script names tables without a dataset; @@dataset_id makes this dataset the default. Both
# values were checked by parse_options: identifiers, not data.
script="$("$node22" "$root/src/deploy/sink-script.ts" "$project" "$dataset")"
params="$("$node22" -e 'process.stdout.write(JSON.stringify({ query: process.argv[1] }))' "$script")"
notification="projects/$project/topics/$sink_runs_topic"
existing="$(transfer_config || true)"
if [ -z "$existing" ]; then
  run bq mk --transfer_config --project_id="$project" --location="$location" --data_source=scheduled_query \
    --display_name="$transfer_name" --schedule="every $sink_every" \
    --service_account_name="$pipeline_sa" --notification_pubsub_topic="$notification" --params="$params"
elif [ "${existing#*$'\t'}" != "$notification" ]; then
  # a scheduled query deployed before the alerts: it gets the notification
  run bq update --transfer_config --notification_pubsub_topic="$notification" "${existing%%$'\t'*}"
else
  echo "= exists: scheduled query '$transfer_name', notifying $sink_runs_topic"
fi

step "Functions (gen2, Node.js 22): alerts on each finished run, the report on authenticated HTTP"
stage_functions
# The trigger pushes with its own identity, allowed to invoke the alerts function only.
deploy_function "$sink_alerts_fn" --entry-point=raiseSinkAlerts --trigger-topic="$sink_runs_topic" --retry \
  --trigger-service-account="$trigger_sa" --service-account="$alerts_sa" \
  --set-env-vars="$common_env,BQ_CHARGEBACK_LOCATION=$location" --memory=256Mi --timeout=300s
deploy_report_function
grant roles/run.invoker "serviceAccount:$trigger_sa" service "$sink_alerts_fn"
# Pub/Sub's own agent mints the push's OIDC token (needed where Pub/Sub was enabled before 8 April 2021).
pubsub_agent="serviceAccount:service-${number:-PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com"
grant roles/iam.serviceAccountTokenCreator "$pubsub_agent" account "$trigger_sa"

step "Scheduler: the monthly report, authenticated with OIDC"
schedule_monthly_report

step "Alerting: the log-based metric and the policy on findings (the alert lines of both modes)"
alert_on_findings

step "Done (sink mode)"
echo "Check it: docs/deploy.md, 'Sink mode'."
