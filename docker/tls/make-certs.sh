#!/usr/bin/env bash
# A local certificate authority and a server certificate for fhirwall, for the TLS example
# (docker/compose.tls.yaml) and for tests; a hospital uses its own CA instead. Needs openssl.
#   docker/tls/make-certs.sh [OUT_DIR] [DNS_NAME...]
# OUT_DIR defaults to docker/secrets/tls; the names default to localhost and the compose service
# names (fhirwall-1, fhirwall-2), plus IP 127.0.0.1. Writes:
#   ca.crt           the CA certificate: clients trust it (curl --cacert, a Java trust store)
#   ca.key           the CA's key: keep it apart, or delete it once the certificate is made
#   fhirwall.crt     the server certificate chain (tls.certificate)
#   fhirwall.key     its private key, PKCS#8 PEM (tls.private-key)
set -euo pipefail
out=${1:-"$(cd "$(dirname "$0")/.." && pwd)/secrets/tls"}
shift || true
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(localhost fhirwall-1 fhirwall-2)
mkdir -p "$out"
cd "$out"
umask 077

san="IP:127.0.0.1"
for n in "${names[@]}"; do san="$san,DNS:$n"; done

# 1. The CA: an EC P-256 key and a self-signed certificate valid for 5 years, allowed to sign
#    certificates only (no intermediates).
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key
openssl req -x509 -new -key ca.key -sha256 -days 1825 -subj "/CN=fhirwall local CA" \
  -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.crt

# 2. The server key (genpkey writes PKCS#8, as fhirwall expects) and a certificate request.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out fhirwall.key
openssl req -new -key fhirwall.key -subj "/CN=${names[0]}" -out fhirwall.csr

# 3. The CA signs it for 1 year, for TLS servers, with every name clients use.
cat >fhirwall.ext <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$san
EXT
openssl x509 -req -in fhirwall.csr -CA ca.crt -CAkey ca.key -CAcreateserial -sha256 -days 365 \
  -extfile fhirwall.ext -out fhirwall.crt
rm -f fhirwall.csr fhirwall.ext ca.srl
openssl verify -CAfile ca.crt fhirwall.crt >/dev/null
# the replicas (uid 10001) read the certificate and key through compose secrets
chmod 644 ca.crt fhirwall.crt fhirwall.key
echo "wrote $out: ca.crt, ca.key, fhirwall.crt, fhirwall.key (names: ${names[*]}, 127.0.0.1)"
