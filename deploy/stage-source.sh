#!/usr/bin/env bash
# Stages the functions' source for `gcloud functions deploy`: the TypeScript the Node 22 runtime
# runs as it is (type stripping), the SQL, the registry, and a package.json with only the
# runtime dependencies (no test tools, no benchmark engines).
#   deploy/stage-source.sh DIR REGISTRY_FILE_OR_GS_URL
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
stage="${1:?usage: stage-source.sh DIR REGISTRY}"
registry="${2:?usage: stage-source.sh DIR REGISTRY}"
mkdir -p "$stage"
cp -R "$root/functions" "$root/src" "$root/sql" "$stage/"
if [[ "$registry" != gs://* ]]; then cp "$registry" "$stage/registry.yaml"; fi
node -e '
  const pkg = require(process.argv[1]);
  const staged = {
    name: pkg.name, version: pkg.version, private: true, type: "module",
    main: "functions/index.ts", engines: { node: ">=22.18" },
    dependencies: pkg.dependencies,
  };
  require("fs").writeFileSync(process.argv[2], JSON.stringify(staged, null, 2) + "\n");
' "$root/package.json" "$stage/package.json"
echo "staged in $stage"
