#!/usr/bin/env bash
# Logs in to the walkthrough's Keycloak the way a browser does (authorization code with PKCE, the
# password form, then the OTP form) and prints the access token: fhirwall's example policies ask for
# a login time (auth_time), which only a browser login puts in the token. For trying the stack only;
# a clinical app does this in the user's browser. Needs bash, curl and openssl.
#   docker/walkthrough/login.sh USER PASSWORD OTP_CODE
#   KEYCLOAK_URL (default http://localhost:8180) names Keycloak as the browser reaches it.
set -euo pipefail
user=${1:?usage: login.sh USER PASSWORD OTP_CODE}
password=${2:?usage: login.sh USER PASSWORD OTP_CODE}
otp=${3:?usage: login.sh USER PASSWORD OTP_CODE}
realm="${KEYCLOAK_URL:-http://localhost:8180}/realms/fhirwall"
client=fhirwall-web
# fhirwall-web accepts http://localhost/* as redirect URI; nothing needs to listen there.
redirect=http://localhost/walkthrough

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

# 4. Code (and PKCE verifier) for tokens; print the access token.
curl --silent --show-error --fail --output "$page" \
  --data-urlencode "grant_type=authorization_code" --data-urlencode "client_id=$client" \
  --data-urlencode "code=$code" --data-urlencode "redirect_uri=$redirect" --data-urlencode "code_verifier=$verifier" \
  "$realm/protocol/openid-connect/token"
token=$(sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p' "$page")
[ -n "$token" ] || fail "no access token in the token endpoint's answer"
printf '%s\n' "$token"
