# shellcheck shell=bash
# shellcheck disable=SC2154 # project, dataset, helpers ...: set by common.sh, which deploy.sh sources first
# deploy.sh --mode sink: the whole pipeline inside BigQuery (sql/README.md, "sink/"). A Log
# Router sink writes the audit logs into the dataset's partitioned tables; the registry and the
# price book are pushed as tables; a scheduled query (BigQuery Data Transfer Service) runs
# sql/sink every few hours. No Pub/Sub, no function per entry. Sourced by deploy.sh after
# parse_options, with common.sh's helpers: every step looks up first, --dry-run changes nothing.
#
# Why scheduled queries and not Dataform: the pipeline is one fixed script of eight statements
# with one parameter (@run_time, which the Data Transfer Service sets); Dataform would add a
# repository, a workflow configuration and a release configuration to run the same SQL, and
# its incremental tables assume one SELECT per table, where findings need deletes as well.

pipeline_sa="$(account_email bq-chargeback-pipeline)"
sink_filter="$(tr '\n' ' ' <"$here/sink-filter.txt")"

step "APIs (sink mode)"
enable_apis bigquery bigquerydatatransfer logging monitoring iam

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

step "Service account of the scheduled query: $pipeline_sa"
if missing gcloud iam service-accounts describe "$pipeline_sa" --project="$project"; then
  run gcloud iam service-accounts create bq-chargeback-pipeline --display-name=bq-chargeback-pipeline --project="$project"
fi
# it reads the sink's tables and the registry and writes the outputs: this dataset only; it runs
# query jobs in this project
grant roles/bigquery.dataEditor "serviceAccount:$pipeline_sa" dataset "$project:$dataset"
grant roles/bigquery.jobUser "serviceAccount:$pipeline_sa" project "$project"
# the Data Transfer Service's agent mints the account's tokens for each run
number="$(look_up gcloud projects describe "$project" --format='value(projectNumber)' || true)"
transfer_agent="serviceAccount:service-${number:-PROJECT_NUMBER}@gcp-sa-bigquerydatatransfer.iam.gserviceaccount.com"
grant roles/iam.serviceAccountTokenCreator "$transfer_agent" account "$pipeline_sa"

step "Scheduled query: sql/sink every $sink_every, incremental (3 days of partitions, MERGE)"
# The script names tables without a dataset; @@dataset_id makes this dataset the default. Both
# values were checked by parse_options: identifiers, not data.
script="$("$node22" "$root/src/deploy/sink-script.ts" "$project" "$dataset")"
params="$("$node22" -e 'process.stdout.write(JSON.stringify({ query: process.argv[1] }))' "$script")"
existing="$(look_up bq ls --transfer_config --transfer_location="$location" --project_id="$project" \
  --format=prettyjson | grep -c "\"displayName\": \"$transfer_name\"" || true)"
if [ "${existing:-0}" -gt 0 ]; then
  echo "= exists: scheduled query '$transfer_name'"
else
  run bq mk --transfer_config --project_id="$project" --location="$location" --data_source=scheduled_query \
    --display_name="$transfer_name" --schedule="every $sink_every" \
    --service_account_name="$pipeline_sa" --params="$params"
fi

step "Alerts"
echo "  none in sink mode yet: findings are in $dataset.findings after each run (docs/deploy.md, 'Sink mode')"

step "Done (sink mode)"
echo "Check it: docs/deploy.md, 'Sink mode'."
