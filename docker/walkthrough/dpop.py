#!/usr/bin/env python3
"""DPoP (RFC 9449) for the walkthrough: the key of the physician's "device" and the proofs it signs.

The shipped clinical roles accept only access tokens bound to a key (authentication.sender-constrained:
dpop). A client makes a key pair once, shows a proof of it when it asks Keycloak for tokens (Keycloak
writes the key's thumbprint into the access token as cnf.jkt), and sends with every request a fresh
proof: a JWT signed with the private key that names the request's method (htm) and URL (htu), when it
was made (iat), a one-time id (jti) and the hash of the access token (ath). A copied token without the
key is refused. For trying the stack only; a clinical app keeps its key in the browser or the device.
Needs python3 (standard library) and openssl.

  dpop.py key FILE                        make an EC P-256 key in FILE (PEM, mode 600) unless it exists
  dpop.py thumbprint FILE                 the key's JWK SHA-256 thumbprint (what cnf.jkt must say)
  dpop.py proof FILE METHOD URL [TOKEN]   a proof for one request (ath only with TOKEN; at the token
                                          endpoint there is no token yet)

URL is the URL as sent, at fhirwall's public base URL (for the walkthrough http://localhost:8080/fhir/...);
its query and fragment are left out of htu. A proof is good once and for about a minute.
"""

import base64
import hashlib
import json
import os
import subprocess
import sys
import time
import urllib.parse
import uuid

# DER SubjectPublicKeyInfo of an uncompressed P-256 key, up to the point (04 || x || y).
P256_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200")


def fail(message):
    print("dpop: " + message, file=sys.stderr)
    sys.exit(1)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def openssl(*args, data=None):
    try:
        done = subprocess.run(["openssl", *args], input=data, capture_output=True, check=False)
    except FileNotFoundError:
        fail("openssl is not installed")
    if done.returncode != 0:
        fail("openssl " + args[0] + " failed: " + done.stderr.decode("utf-8", "replace").strip())
    return done.stdout


def make_key(path):
    if os.path.exists(path):
        return
    pem = openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256")
    # the private key is readable by its owner only, and never overwritten
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)


def public_jwk(path):
    if not os.path.isfile(path):
        fail("no key in " + path + " (make one with: dpop.py key " + path + ")")
    der = openssl("pkey", "-in", path, "-pubout", "-outform", "DER")
    if len(der) != len(P256_SPKI_PREFIX) + 65 or not der.startswith(P256_SPKI_PREFIX) or der[len(P256_SPKI_PREFIX)] != 4:
        fail(path + " is not an EC P-256 key")
    point = der[len(P256_SPKI_PREFIX) + 1:]
    return {"kty": "EC", "crv": "P-256", "x": b64url(point[:32]), "y": b64url(point[32:])}


def thumbprint(jwk):
    # RFC 7638: the required members in lexicographic order, no white space
    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode("ascii")).digest())


def der_integer(der, at):
    if der[at] != 0x02:
        fail("unexpected ECDSA signature from openssl")
    length = der[at + 1]
    value = der[at + 2:at + 2 + length]
    return int.from_bytes(value, "big"), at + 2 + length


def raw_signature(der):
    """openssl's ECDSA signature (DER SEQUENCE of r and s) as JWS wants it: r || s, 32 bytes each."""
    if len(der) < 8 or der[0] != 0x30:
        fail("unexpected ECDSA signature from openssl")
    at = 3 if der[1] & 0x80 else 2
    r, at = der_integer(der, at)
    s, _ = der_integer(der, at)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def htu(url):
    u = urllib.parse.urlsplit(url)
    if u.scheme not in ("http", "https") or not u.netloc:
        fail("not an absolute http(s) URL: " + url)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, u.path or "/", "", ""))


def proof(path, method, url, token):
    jwk = public_jwk(path)
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk}
    claims = {"jti": str(uuid.uuid4()), "htm": method, "htu": htu(url), "iat": int(time.time())}
    if token:
        claims["ath"] = b64url(hashlib.sha256(token.encode("ascii")).digest())
    signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode("utf-8")) + "."
                     + b64url(json.dumps(claims, separators=(",", ":")).encode("utf-8")))
    der = openssl("dgst", "-sha256", "-sign", path, data=signing_input.encode("ascii"))
    return signing_input + "." + b64url(raw_signature(der))


def main(argv):
    if len(argv) == 2 and argv[0] == "key":
        make_key(argv[1])
    elif len(argv) == 2 and argv[0] == "thumbprint":
        print(thumbprint(public_jwk(argv[1])))
    elif len(argv) in (4, 5) and argv[0] == "proof":
        print(proof(argv[1], argv[2].upper(), argv[3], argv[4] if len(argv) == 5 else None))
    else:
        print("usage: dpop.py key FILE | dpop.py thumbprint FILE | dpop.py proof FILE METHOD URL [TOKEN]", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv[1:])
