#!/usr/bin/env bash
# Re-vendor the GraphiQL UMD build and its React 18 UMD dependencies into
# visapi/static/graphiql/ so the GraphiQL page works with no CDN at run time.
#
# Maintainer tool only: the build and CI never run this; the vendored files are
# committed. Needs node/npm with access to the npm registry.
#
# Usage:  scripts/vendor_graphiql.sh            (pinned versions below)
#         GRAPHIQL_VERSION=3.9.0 REACT_VERSION=18.3.1 scripts/vendor_graphiql.sh
#
# GraphiQL 3.x (and 4.x) ship a UMD build (graphiql.min.js); 5.x dropped it and
# needs a bundler/ESM import map, so do not bump past 4.x without rewriting index.html.
# Keep React on 18.x: React 19 dropped the umd/ folder.
# After running, update visapi/static/graphiql/VERSIONS.md.
set -euo pipefail

GRAPHIQL_VERSION="${GRAPHIQL_VERSION:-3.9.0}"
REACT_VERSION="${REACT_VERSION:-18.3.1}"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/visapi/static/graphiql"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

cd "$TMP"
for spec in "graphiql@$GRAPHIQL_VERSION" "react@$REACT_VERSION" "react-dom@$REACT_VERSION"; do
  name="${spec%@*}"
  tarball="$(npm pack --silent "$spec" | tail -n 1)"
  mkdir -p "$name"
  tar -xzf "$tarball" -C "$name"   # contents land in $name/package/
done

mkdir -p "$DEST"
cp graphiql/package/graphiql.min.js              "$DEST/graphiql.min.js"
cp graphiql/package/graphiql.min.css             "$DEST/graphiql.min.css"
cp graphiql/package/LICENSE                      "$DEST/LICENSE.graphiql.txt"
cp react/package/umd/react.production.min.js     "$DEST/react.production.min.js"
cp react/package/LICENSE                         "$DEST/LICENSE.react.txt"
cp react-dom/package/umd/react-dom.production.min.js "$DEST/react-dom.production.min.js"
cp react-dom/package/LICENSE                     "$DEST/LICENSE.react-dom.txt"

echo "Vendored graphiql@$GRAPHIQL_VERSION, react@$REACT_VERSION, react-dom@$REACT_VERSION into $DEST"
( cd "$DEST" && sha256sum graphiql.min.js graphiql.min.css react.production.min.js react-dom.production.min.js && du -ch ./*.js ./*.css | tail -n 1 )
