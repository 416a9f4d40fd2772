# shellcheck shell=bash
# shellcheck disable=SC2034 # the names are used by deploy.sh and teardown.sh, which source this file
# What deploy.sh and teardown.sh share: options, their checks, the names of everything created,
# and the helpers that make each step idempotent (look up, then change only what is missing).
# Sourced, not run.

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

project="" region="" dataset="bq_chargeback" location="US" registry="" schedule="0 6 2 * *"
organization="" folder="" sink_project="" channel="" report_bucket="" storage_locations=""
dry_run=false delete_data=false iam_audit=false
mode="function"
# Seconds between attempts when Google has not caught up yet (a new service account, a new metric).
retry_wait="${BQ_CHARGEBACK_DEPLOY_RETRY_SECONDS:-30}"

fail() {
  echo "$(basename "$0"): $*" >&2
  exit 2
}

parse_options() {
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
      --report-bucket) report_bucket="${2:-}"; shift 2 ;;
      --storage-locations) storage_locations="${2:-}"; shift 2 ;;
      --delete-data) delete_data=true; shift ;;
      --iam-audit) iam_audit=true; shift ;;
      --dry-run) dry_run=true; shift ;;
      --mode) mode="${2:-}"; shift 2 ;;
      -h | --help) usage ;;
      *) fail "unknown option $1 (see --help)" ;;
    esac
  done

  # Every value that ends up in a command is checked first: no surprises in names or filters.
  [[ "$mode" =~ ^(function|sink)$ ]] || fail "--mode: expected function or sink, found '$mode'"
  [[ "$project" =~ ^[a-z][a-z0-9-]{4,28}[a-z0-9]$ ]] || fail "--project: expected a project id, found '$project'"
  [[ "$region" =~ ^[a-z]+-[a-z]+[0-9]+$ ]] || fail "--region: expected a region such as europe-west1, found '$region'"
  [[ "$dataset" =~ ^[A-Za-z_][A-Za-z0-9_]{0,1023}$ ]] || fail "--dataset: expected letters, digits and _, found '$dataset'"
  [[ "$location" =~ ^[A-Za-z]+(-[a-z]+[0-9]+)?$ ]] || fail "--location: expected US, EU or a region, found '$location'"
  storage_locations="${storage_locations:-$location}"
  local each
  for each in $storage_locations; do
    [[ "$each" =~ ^[A-Za-z]+(-[a-z]+[0-9]+)?$ ]] || fail "--storage-locations: expected locations such as 'US europe-west1', found '$each'"
  done
  [ -n "$registry" ] || fail "--registry: expected a registry file or a gs:// URL"
  if [[ "$registry" == gs://* ]]; then
    [[ "$registry" =~ ^gs://[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]/.+$ ]] || fail "--registry: expected gs://BUCKET/OBJECT, found '$registry'"
  else
    [ -f "$registry" ] || fail "--registry: no such file: $registry"
  fi
  [ -z "$report_bucket" ] || [[ "$report_bucket" =~ ^gs://[a-z0-9][a-z0-9._-]{1,220}[a-z0-9](/[A-Za-z0-9._/-]*)?$ ]] ||
    fail "--report-bucket: expected gs://BUCKET[/PREFIX], found '$report_bucket'"
  local scopes=0
  [ -n "$organization" ] && scopes=$((scopes + 1))
  [ -n "$folder" ] && scopes=$((scopes + 1))
  [ -n "$sink_project" ] && scopes=$((scopes + 1))
  [ "$scopes" -eq 1 ] || fail "give exactly one of --organization, --folder, --sink-project"
  [ -z "$organization" ] || [[ "$organization" =~ ^[0-9]{1,20}$ ]] || fail "--organization: expected a numeric id"
  [ -z "$folder" ] || [[ "$folder" =~ ^[0-9]{1,20}$ ]] || fail "--folder: expected a numeric id"
  [ -z "$sink_project" ] || [[ "$sink_project" =~ ^[a-z][a-z0-9-]{4,28}[a-z0-9]$ ]] || fail "--sink-project: expected a project id"
  [ -z "$channel" ] || [[ "$channel" =~ ^projects/[a-z0-9-]+/notificationChannels/[0-9]+$ ]] || fail "--notification-channel: expected projects/P/notificationChannels/N"

  # Node 22 from `npm ci` (package.json): it builds the functions and reads the registry.
  node22="$root/node_modules/.bin/node"
  [ -x "$node22" ] || fail "run 'npm ci' in $root first (it brings Node 22 and the TypeScript compiler)"

  # The IAM audit searches the policies of the same scope the sink reads (kind, target, API scope).
  if [ -n "$organization" ]; then sink_scope=(--organization="$organization")
    iam_scope=(organization "$organization" "organizations/$organization")
  elif [ -n "$folder" ]; then sink_scope=(--folder="$folder")
    iam_scope=(folder "$folder" "folders/$folder")
  else sink_scope=(--project="$sink_project")
    iam_scope=(project "$sink_project" "projects/$sink_project"); fi
  registry_bucket=""
  if [[ "$registry" == gs://* ]]; then
    registry_bucket="${registry#gs://}"
    registry_bucket="gs://${registry_bucket%%/*}"
  fi
  report_bucket_name=""
  if [ -n "$report_bucket" ]; then
    report_bucket_name="${report_bucket#gs://}"
    report_bucket_name="gs://${report_bucket_name%%/*}"
  fi
}

topic="bq-chargeback-audit-logs"
dead_letter="bq-chargeback-dead-letter"
alerts="bq-chargeback-alerts"
# Pub/Sub drops what is published to a topic without a subscription: these keep dead letters
# and alerts until someone reads them.
dead_letter_hold="bq-chargeback-dead-letter-hold"
alerts_hold="bq-chargeback-alerts-hold"
sink="bq-chargeback"
ingest_fn="bq-chargeback-ingest"
report_fn="bq-chargeback-report"
scheduler_job="bq-chargeback-monthly"
# The IAM audit (--iam-audit): its function, its daily job, its own account.
iam_fn="bq-chargeback-iam"
iam_job="bq-chargeback-iam-daily"
iam_account="bq-chargeback-iam"
metric="bq_chargeback_findings"
# Sink mode (deploy/sink-mode.sh): the sink into BigQuery and the scheduled query.
bigquery_sink="bq-chargeback-bigquery"
transfer_name="bq-chargeback sink pipeline"
sink_every="6 hours"
# Its alerts: the Data Transfer Service publishes each finished run to this topic, and this
# function (raiseSinkAlerts) writes the alert lines of the findings the run wrote.
sink_runs_topic="bq-chargeback-sink-runs"
sink_alerts_fn="bq-chargeback-sink-alerts"
sink_accounts=(bq-chargeback-pipeline bq-chargeback-sink-alerts bq-chargeback-trigger bq-chargeback-build bq-chargeback-report bq-chargeback-scheduler)
findings_policy_file="$here/alert-policy.json"
dead_letter_policy_file="$here/dead-letter-alert-policy.json"
# One identity per job, each with only its own grants (deploy/iam.md).
accounts=(bq-chargeback-ingest bq-chargeback-report bq-chargeback-trigger bq-chargeback-scheduler bq-chargeback-build)

account_email() { echo "$1@${project}.iam.gserviceaccount.com"; }

step() { printf '\n== %s\n' "$*"; }

# A change: printed (quoted so it can be pasted), then run, not in --dry-run.
run() {
  printf '+'
  printf ' %q' "$@"
  printf '\n'
  if [ "$dry_run" = false ]; then "$@"; fi
}

# A change Google may refuse for a while after a dependency was created (IAM propagation of a
# new service account, a log-based metric not yet known to Cloud Monitoring): retried.
run_retried() {
  local attempts="$1" attempt=1
  shift
  printf '+'
  printf ' %q' "$@"
  printf '\n'
  [ "$dry_run" = false ] || return 0
  until "$@"; do
    [ "$attempt" -lt "$attempts" ] || return 1
    echo "  (not accepted yet; attempt $((attempt + 1)) of $attempts in ${retry_wait}s)"
    sleep "$retry_wait"
    attempt=$((attempt + 1))
  done
}

# A read-only look-up: runs in --dry-run too, so a dry run shows only what is really missing.
# Prints what it found; fails when the resource is absent (or gcloud/bq cannot be run at all).
look_up() {
  "$@" 2>/dev/null
}

# True when the describing command finds nothing.
missing() {
  if look_up "$@" >/dev/null; then
    printf '= exists: %s\n' "$*"
    return 1
  fi
  return 0
}

# enable_apis NAME...: enables those of the project's APIs (bigquery, logging, ...) not yet enabled.
enable_apis() {
  local enabled api
  local wanted=()
  enabled="$(look_up gcloud services list --enabled --project="$project" --format='value(config.name)' || true)"
  for api in "$@"; do
    grep -qx "$api.googleapis.com" <<<"$enabled" || wanted+=("$api.googleapis.com")
  done
  if [ "${#wanted[@]}" -gt 0 ]; then run gcloud services enable "${wanted[@]}" --project="$project"
  else echo "= enabled: every API needed"; fi
}

# The commands that read and change the IAM policy of one resource, by kind. gcloud's look-ups
# print one "ROLE,MEMBER" line per binding (flattened).
policy_commands() {
  local kind="$1" target="$2" verb="$3"
  local rows=(--flatten='bindings[].members' --format='csv[no-heading](bindings.role,bindings.members)')
  case "$kind" in
    project) get=(gcloud projects get-iam-policy "$target" "${rows[@]}")
      change=(gcloud projects "$verb" "$target" --condition=None) ;;
    organization) get=(gcloud organizations get-iam-policy "$target" "${rows[@]}")
      change=(gcloud organizations "$verb" "$target" --condition=None) ;;
    folder) get=(gcloud resource-manager folders get-iam-policy "$target" "${rows[@]}")
      change=(gcloud resource-manager folders "$verb" "$target" --condition=None) ;;
    dataset) get=(bq get-iam-policy --format=prettyjson "$target")
      change=(bq "$verb") ;;
    topic) get=(gcloud pubsub topics get-iam-policy "$target" --project="$project" "${rows[@]}")
      change=(gcloud pubsub topics "$verb" "$target" --project="$project") ;;
    subscription) get=(gcloud pubsub subscriptions get-iam-policy "$target" --project="$project" "${rows[@]}")
      change=(gcloud pubsub subscriptions "$verb" "$target" --project="$project") ;;
    service) get=(gcloud run services get-iam-policy "$target" --region="$region" --project="$project" "${rows[@]}")
      change=(gcloud run services "$verb" "$target" --region="$region" --project="$project") ;;
    bucket) get=(gcloud storage buckets get-iam-policy "$target" --project="$project" "${rows[@]}")
      change=(gcloud storage buckets "$verb" "$target" --project="$project") ;;
    account) get=(gcloud iam service-accounts get-iam-policy "$target" --project="$project" "${rows[@]}")
      change=(gcloud iam service-accounts "$verb" "$target" --project="$project") ;;
    *) fail "unknown kind of IAM resource: $kind" ;;
  esac
}

# True when the resource's IAM policy binds ROLE to MEMBER.
bound() {
  local role="$1" member="$2" kind="$3" target="$4" policy
  policy_commands "$kind" "$target" add-iam-policy-binding
  policy="$(look_up "${get[@]}")" || return 1
  if [ "$kind" = dataset ]; then
    # bq prints the policy as JSON
    printf '%s' "$policy" | "$node22" -e '
      let text = ""; process.stdin.on("data", (d) => (text += d)).on("end", () => {
        const [role, member] = process.argv.slice(1);
        const bindings = JSON.parse(text || "{}").bindings ?? [];
        process.exit(bindings.some((b) => b.role === role && (b.members ?? []).includes(member)) ? 0 : 1);
      });' "$role" "$member"
  else
    grep -qxF "$role,$member" <<<"$policy"
  fi
}

# grant ROLE MEMBER KIND TARGET: adds the binding unless the policy already has it.
grant() {
  local role="$1" member="$2" kind="$3" target="$4"
  if bound "$role" "$member" "$kind" "$target"; then
    echo "= granted: $role to $member on $target"
    return 0
  fi
  policy_commands "$kind" "$target" add-iam-policy-binding
  if [ "$kind" = dataset ]; then
    run_retried 6 "${change[@]}" --member="$member" --role="$role" "$target"
  else
    run_retried 6 "${change[@]}" --member="$member" --role="$role"
  fi
}

# revoke ROLE MEMBER KIND TARGET: removes the binding if the policy has it.
revoke() {
  local role="$1" member="$2" kind="$3" target="$4"
  bound "$role" "$member" "$kind" "$target" || return 0
  policy_commands "$kind" "$target" remove-iam-policy-binding
  if [ "$kind" = dataset ]; then
    run "${change[@]}" --member="$member" --role="$role" "$target"
  else
    run "${change[@]}" --member="$member" --role="$role"
  fi
}

# The registered projects (the registry, fetched first when it lives in Cloud Storage).
registry_projects() {
  local file="$registry"
  if [[ "$registry" == gs://* ]]; then
    file="$(mktemp)"
    look_up gcloud storage cp "$registry" "$file" >/dev/null || fail "--registry: cannot read $registry"
  fi
  "$node22" "$root/src/deploy/registry-projects.ts" "$file"
}

# Every project-level grant, as "ROLE ACCOUNT": one list for deploy.sh and teardown.sh.
project_grants=(
  "roles/bigquery.jobUser bq-chargeback-report"
  "roles/logging.logWriter bq-chargeback-build"
  "roles/artifactregistry.writer bq-chargeback-build"
  "roles/storage.objectAdmin bq-chargeback-build"
)

# The scheduled query of the sink mode, looked up by its display name: "NAME<TAB>TOPIC" (its
# resource name and its notification topic), nothing when there is none.
transfer_config() {
  look_up bq ls --transfer_config --transfer_location="$location" --project_id="$project" --format=prettyjson |
    "$node22" -e '
      let text = ""; process.stdin.on("data", (d) => (text += d)).on("end", () => {
        const found = (JSON.parse(text || "[]") ?? []).find((c) => c.displayName === process.argv[1]);
        if (found) console.log([found.name, found.notificationPubsubTopic ?? ""].join("\t"));
      });' "$transfer_name"
}

# create_accounts NAME...: the service accounts not yet there.
create_accounts() {
  local account
  for account in "$@"; do
    if missing gcloud iam service-accounts describe "$(account_email "$account")" --project="$project"; then
      run gcloud iam service-accounts create "$account" --display-name="$account" --project="$project"
    fi
  done
}

# stage_functions: builds the functions' JavaScript once into $stage (removed on exit) and sets
# what every function is deployed with: common_env, source_hash, build_account.
stage_functions() {
  stage="$(mktemp -d)"
  trap 'rm -rf "$stage"' EXIT
  "$here/stage-source.sh" "$stage" "$registry" >/dev/null
  local registry_env="registry.yaml"
  [[ "$registry" == gs://* ]] && registry_env="$registry"
  common_env="GOOGLE_CLOUD_PROJECT=$project,BQ_CHARGEBACK_DATASET=$dataset,BQ_CHARGEBACK_REGISTRY=$registry_env"
  source_hash="$(cd "$stage" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64)"
  build_account="projects/$project/serviceAccounts/$(account_email bq-chargeback-build)"
}

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

# The monthly report, the same in both modes (it reads job_costs and findings, which either mode
# writes): its grants, its function, its Cloud Scheduler job.
grant_report_access() {
  local report_sa registered
  report_sa="serviceAccount:$(account_email bq-chargeback-report)"
  # it writes its tables: this dataset only
  grant roles/bigquery.dataEditor "$report_sa" dataset "$project:$dataset"
  # it reads INFORMATION_SCHEMA.TABLE_STORAGE of each registered project: those projects only
  for registered in $(registry_projects); do
    grant roles/bigquery.metadataViewer "$report_sa" project "$registered"
  done
  [ -z "$registry_bucket" ] || grant roles/storage.objectViewer "$report_sa" bucket "$registry_bucket"
  # objectUser: writing report-FROM-TO.html again for a re-run period replaces it (needs delete)
  [ -z "$report_bucket" ] || grant roles/storage.objectUser "$report_sa" bucket "$report_bucket_name"
}

create_report_bucket() {
  [ -n "$report_bucket" ] || return 0
  step "Report bucket $report_bucket_name (report.html of each period)"
  if missing gcloud storage buckets describe "$report_bucket_name" --project="$project"; then
    run gcloud storage buckets create "$report_bucket_name" --project="$project" --location="$region" \
      --uniform-bucket-level-access
  fi
}

deploy_report_function() {
  local env="$common_env,BQ_CHARGEBACK_LOCATION=$location,BQ_CHARGEBACK_STORAGE_LOCATIONS=$storage_locations"
  [ -z "$report_bucket" ] || env="$env,BQ_CHARGEBACK_REPORT_BUCKET=$report_bucket"
  deploy_function "$report_fn" --entry-point=buildChargebackReport --trigger-http --no-allow-unauthenticated \
    --service-account="$(account_email bq-chargeback-report)" --set-env-vars="$env" --memory=1Gi --timeout=1800s
}

schedule_monthly_report() {
  local scheduler_sa url job_state
  scheduler_sa="$(account_email bq-chargeback-scheduler)"
  url="$(look_up gcloud functions describe "$report_fn" --gen2 --region="$region" --project="$project" --format='value(serviceConfig.uri)' || true)"
  url="${url:-https://REPORT_FUNCTION_URL}"
  # the scheduler may invoke the report function, nothing else
  grant roles/run.invoker "serviceAccount:$scheduler_sa" service "$report_fn"
  # Scheduler's default attempt deadline is 180 s; the report may run up to the function's 1800 s.
  # A retry is safe: each run replaces its period's rows.
  local schedule_settings=(--attempt-deadline=1800s --max-retry-attempts=2 --min-backoff=600s)
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
}

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

# The log-based metric over the alert lines (deploy/metric.yaml) and the policy on it: both modes
# write the same lines (src/cloud/alerts.ts).
alert_on_findings() {
  if missing gcloud logging metrics describe "$metric" --project="$project"; then
    run gcloud logging metrics create "$metric" --project="$project" --config-from-file="$here/metric.yaml"
  fi
  create_policy "$findings_policy_file" 30
}
