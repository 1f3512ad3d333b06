#!/usr/bin/env bash
# make demo: the sandbox in the background, a demo tenant activated against it, every
# flow run once, then the log. Needs only the built binary and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=./bin/cazbling
DIR=.demo
PORT=${DEMO_PORT:-18080}
BASE="http://127.0.0.1:$PORT"
rm -rf "$DIR" && mkdir -p "$DIR"
export CAZBLING_DB="$DIR/cazbling.db"
# The sandbox keeps Bling's real 3 requests/s per account; CaZco's limit is raised from
# 60 to 600 a minute so that the demo takes seconds, not minutes.
export CAZBLING_CAZCO_RPM=600
# Runs read Bling's changes up to a minute ago by default (late indexing); the demo's
# changes are seconds old, so it reads up to a second ago.
export CAZBLING_MARGIN=1s

PANEL_PORT=${DEMO_PANEL_PORT:-18090}
PANEL="http://127.0.0.1:$PANEL_PORT"
$BIN sandbox --addr "127.0.0.1:$PORT" --cazco-rate 600 --bling-redirect-uri "$PANEL/oauth/bling/callback" >"$DIR/sandbox.out" 2>"$DIR/sandbox.log" &
SANDBOX=$!
trap 'kill $SANDBOX 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  curl -fs "$BASE/_sandbox/tenants" >/dev/null 2>&1 && break
  sleep 0.1
done

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "The sandbox serves a stand-in Bling and CaZco on $BASE"
TENANT=loja-da-ana
CLIENT_ID=$(curl -fs "$BASE/_sandbox/tenants" | sed -n 's/.*"tenant":"'$TENANT'"[^}]*"client_id":"\([^"]*\)".*/\1/p')
CLIENT_SECRET=$(curl -fs "$BASE/_sandbox/tenants" | sed -n 's/.*"tenant":"'$TENANT'"[^}]*"client_secret":"\([^"]*\)".*/\1/p')
CAZCO_KEY=$(curl -fs "$BASE/_sandbox/tenants" | sed -n 's/.*"tenant":"'$TENANT'"[^}]*"cazco_key":"\([^"]*\)".*/\1/p')
CODE=$(curl -fs -X POST "$BASE/_sandbox/code?client_id=$CLIENT_ID" | sed -n 's/.*"code":"\([^"]*\)".*/\1/p')

step "cazbling activate $TENANT (verifies both sides, then the initial full sync)"
$BIN activate "$TENANT" --bling-url "$BASE/Api/v3" --bling-client-id "$CLIENT_ID" \
  --bling-client-secret "$CLIENT_SECRET" --bling-code "$CODE" \
  --cazco-url "$BASE/api/v1/seller" --cazco-api-key "$CAZCO_KEY" || true

step "cazbling sync-products (nothing new: nothing written)"
$BIN sync-products || true

step "In Bling, the seller changes a price and two stock levels (in the default deposit)"
curl -fs -X POST "$BASE/_sandbox/bling/price?client_id=$CLIENT_ID&sku=OCU-SOL-015&price=219.90" >/dev/null
curl -fs -X POST "$BASE/_sandbox/bling/stock?client_id=$CLIENT_ID&sku=TOA-MIC-025&quantity=3" >/dev/null
curl -fs -X POST "$BASE/_sandbox/bling/stock?client_id=$CLIENT_ID&sku=SAN-RAS-021&quantity=0" >/dev/null
sleep 2 # Bling's date filters have whole seconds
step "cazbling sync-stock (one product update, one stock batch)"
$BIN sync-stock || true

step "cazbling sync-orders (CaZco orders filed in Bling, each once)"
$BIN sync-orders || true
step "cazbling sync-orders again (nothing filed twice)"
$BIN sync-orders || true

# The life of an order after it is filed: two of the orders just filed in Bling.
NUMBERS=$(curl -fs "$BASE/_sandbox/state?client_id=$CLIENT_ID" | grep -o '"numeroLoja":"[^"]*"' | sed 's/.*:"\(.*\)"/\1/' | head -2)
FIRST=$(echo "$NUMBERS" | sed -n 1p)
SECOND=$(echo "$NUMBERS" | sed -n 2p)
if [ -n "$FIRST" ] && [ -n "$SECOND" ]; then
  step "In Bling, the seller issues the NF-e of order $FIRST and ships it (tracking), and cancels order $SECOND"
  curl -fs -X POST "$BASE/_sandbox/bling/nfe?client_id=$CLIENT_ID&number=$FIRST" >/dev/null
  curl -fs -X POST "$BASE/_sandbox/bling/tracking?client_id=$CLIENT_ID&number=$FIRST&code=QB123456789BR" >/dev/null
  curl -fs -X POST "$BASE/_sandbox/bling/order-status?client_id=$CLIENT_ID&number=$SECOND&status=Cancelado" >/dev/null
  step "cazbling sync-orders (the NF-e becomes the CaZco invoice, the tracking a shipment; the cancel reaches CaZco)"
  $BIN sync-orders || true
  $BIN logs --tenant "$TENANT" --flow orders --limit 4 || true
fi

step "cazbling tenants"
$BIN tenants || true
step "cazbling logs --runs"
$BIN logs --runs || true
step "cazbling logs --tenant $TENANT --limit 20"
$BIN logs --tenant "$TENANT" --limit 20 || true
step "cazbling logs --status error (what needs a person)"
$BIN logs --status error || true

step "The seller panel: an invite link for a new seller (opened in a browser, it sets up the store)"
# casa-do-joao is a sandbox account not activated above: the panel connects it.
PANEL_TENANT=casa-do-joao
PANEL_ID=$(curl -fs "$BASE/_sandbox/tenants" | sed -n 's/.*"tenant":"'$PANEL_TENANT'"[^}]*"client_id":"\([^"]*\)".*/\1/p')
PANEL_SECRET=$(curl -fs "$BASE/_sandbox/tenants" | sed -n 's/.*"tenant":"'$PANEL_TENANT'"[^}]*"client_secret":"\([^"]*\)".*/\1/p')
PANEL_KEY=$(curl -fs "$BASE/_sandbox/tenants" | sed -n 's/.*"tenant":"'$PANEL_TENANT'"[^}]*"cazco_key":"\([^"]*\)".*/\1/p')
$BIN tenants invite "$PANEL_TENANT" --public-url "$PANEL" || true
cat <<EOT

To try it, start a sandbox and the panel (two terminals):

  $BIN sandbox --addr 127.0.0.1:$PORT --cazco-rate 600 \\
      --bling-redirect-uri $PANEL/oauth/bling/callback
  CAZBLING_DB=$CAZBLING_DB $BIN panel --listen 127.0.0.1:$PANEL_PORT --public-url $PANEL \\
      --bling-url $BASE/Api/v3 --bling-client-id $PANEL_ID --bling-client-secret $PANEL_SECRET

then open the invite link above and enter, in the CaZco step:
  API URL: $BASE/api/v1/seller    API key: $PANEL_KEY
(The demo's sandbox stops when this script ends; the one you start keeps the same demo data.)
EOT
