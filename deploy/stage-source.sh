#!/usr/bin/env bash
# Stages the functions' source for `gcloud functions deploy`: plain JavaScript compiled by tsc
# (the runtime's Node needs no type stripping, any 22.x runs it), the SQL, the registry, and a
# package.json with only the runtime dependencies, pinned by a lockfile pruned from this
# repository's, so Google's build (npm ci) installs exactly the versions tested here.
#   deploy/stage-source.sh DIR REGISTRY_FILE_OR_GS_URL
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
stage="${1:?usage: stage-source.sh DIR REGISTRY}"
registry="${2:?usage: stage-source.sh DIR REGISTRY}"
node22="$root/node_modules/.bin/node"
[ -x "$node22" ] || { echo "stage-source.sh: run 'npm ci' in $root first" >&2; exit 2; }
mkdir -p "$stage"
# functions/index.ts and what it imports, as JavaScript, in the same layout (src/, functions/)
"$node22" "$root/node_modules/typescript/bin/tsc" -p "$root/deploy/tsconfig.functions.json" --outDir "$stage"
cp -R "$root/sql" "$stage/"
if [[ "$registry" != gs://* ]]; then cp "$registry" "$stage/registry.yaml"; fi
"$node22" -e '
  const pkg = require(process.argv[1]);
  const staged = {
    name: pkg.name, version: pkg.version, private: true, type: "module",
    main: "functions/index.js", engines: { node: "22.x" },
    dependencies: pkg.dependencies,
  };
  require("fs").writeFileSync(process.argv[2], JSON.stringify(staged, null, 2) + "\n");
' "$root/package.json" "$stage/package.json"
cp "$root/package-lock.json" "$stage/package-lock.json"
# Drop the development packages from the lockfile; every other version stays as locked.
(cd "$stage" && npm install --package-lock-only --omit=dev --ignore-scripts --no-audit --no-fund \
  --prefer-offline --loglevel=error >/dev/null)
echo "staged in $stage"
