#!/bin/sh
# Installs this folder's pinned Node packages (Xen Orchestra's xen-api) for the XO event tests; does nothing if they are already there.
set -eu
cd "$(dirname "$0")"
want=$(node -p "require('./package.json').dependencies['xen-api']")
have=$(node -p "try { require('./node_modules/xen-api/package.json').version } catch (e) { '' }")
[ "$have" = "$want" ] && exit 0
echo "installing xen-api $want with npm" >&2
exec npm install --no-audit --no-fund --loglevel=error
