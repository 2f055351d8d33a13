#!/usr/bin/env bash
# Logs in to the walkthrough's Keycloak the way a browser does (authorization code with PKCE, the
# password form, then the OTP form) and prints the access token: fhirwall's example policies ask for
# a login time (auth_time), which only a browser login puts in the token. For trying the stack only;
# a clinical app does this in the user's browser. Needs bash, curl, openssl and python3.
#   docker/walkthrough/login.sh USER PASSWORD OTP_CODE
#   KEYCLOAK_URL (default http://localhost:8180) names Keycloak as the browser reaches it.
#   DPOP_KEY (default docker/secrets/dpop-key.pem) is the key of the "device" (made by dpop.py when
#     missing): the code is exchanged with a DPoP proof of it (RFC 9449), so Keycloak binds the access
#     token to it (cnf.jkt). The example clinical roles accept only such tokens, and each request
#     through fhirwall needs a fresh proof of the same key (dpop.py proof).
set -euo pipefail
user=${1:?usage: login.sh USER PASSWORD OTP_CODE}
password=${2:?usage: login.sh USER PASSWORD OTP_CODE}
otp=${3:?usage: login.sh USER PASSWORD OTP_CODE}
realm="${KEYCLOAK_URL:-http://localhost:8180}/realms/fhirwall"
client=fhirwall-web
# fhirwall-web accepts http://localhost/* as redirect URI; nothing needs to listen there.
redirect=http://localhost/walkthrough
here=$(cd "$(dirname "$0")" && pwd)
key=${DPOP_KEY:-$here/../secrets/dpop-key.pem}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
jar="$work/cookies"
page="$work/page"

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
# The action URL of the page's (first) form, &amp; decoded.
form_action() {
  tr '\n' ' ' <"$page" | grep -o '<form[^>]*>' | head -n 1 | sed -n 's/.*action="\([^"]*\)".*/\1/p' | sed 's/&amp;/\&/g'
}
fail() { echo "login: $*" >&2; exit 1; }

if [ ! -f "$key" ]; then
  mkdir -p "$(dirname "$key")"
  python3 "$here/dpop.py" key "$key"
  echo "login: made the DPoP key $key" >&2
fi

verifier=$(openssl rand 48 | b64url)
challenge=$(printf %s "$verifier" | openssl dgst -sha256 -binary | b64url)
state=$(openssl rand -hex 16)

# 1. The authorization request: Keycloak answers with its login form.
curl --silent --show-error --fail --cookie-jar "$jar" --cookie "$jar" --output "$page" --get \
  --data-urlencode "client_id=$client" --data-urlencode "response_type=code" --data-urlencode "scope=openid" \
  --data-urlencode "redirect_uri=$redirect" --data-urlencode "state=$state" \
  --data-urlencode "code_challenge=$challenge" --data-urlencode "code_challenge_method=S256" \
  "$realm/protocol/openid-connect/auth"
action=$(form_action)
[ -n "$action" ] || fail "no login form at $realm"

# 2. Username and password; the realm then asks for the OTP code (fhirwall-web always needs it).
curl --silent --show-error --cookie-jar "$jar" --cookie "$jar" --output "$page" \
  --data-urlencode "username=$user" --data-urlencode "password=$password" --data-urlencode "credentialId=" \
  "$action"
grep -q 'name="otp"' "$page" || fail "password refused for $user (no OTP form came)"
action=$(form_action)

# 3. The OTP code; success is a redirect to $redirect with the authorization code.
location=$(curl --silent --show-error --cookie-jar "$jar" --cookie "$jar" --output "$page" \
  --write-out '%{redirect_url}' --data-urlencode "otp=$otp" --data-urlencode "login=Sign In" "$action")
case "$location" in
  "$redirect"*) ;;
  *) fail "OTP code refused for $user (wrong or already used code?)" ;;
esac
case "$location" in
  *"state=$state"*) ;;
  *) fail "the redirect does not carry this login's state" ;;
esac
code=$(printf %s "$location" | sed -n 's/.*[?&]code=\([^&]*\).*/\1/p')
[ -n "$code" ] || fail "no authorization code in $location"

# 4. Code (and PKCE verifier) for tokens, with a proof of the DPoP key for the token endpoint (no
# access token yet: no ath); print the access token, which Keycloak has bound to the key.
token_endpoint="$realm/protocol/openid-connect/token"
proof=$(python3 "$here/dpop.py" proof "$key" POST "$token_endpoint")
status=$(curl --silent --show-error --output "$page" --write-out '%{http_code}' --header "DPoP: $proof" \
  --data-urlencode "grant_type=authorization_code" --data-urlencode "client_id=$client" \
  --data-urlencode "code=$code" --data-urlencode "redirect_uri=$redirect" --data-urlencode "code_verifier=$verifier" \
  "$token_endpoint")
[ "$status" = 200 ] || fail "the token endpoint refused the code ($status): $(cat "$page")"
token=$(sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' "$page")
[ -n "$token" ] || fail "no access token in the token endpoint's answer"
grep -q '"token_type":"DPoP"' "$page" || fail "Keycloak did not bind the token to the DPoP key (token_type is not DPoP)"
printf '%s\n' "$token"
