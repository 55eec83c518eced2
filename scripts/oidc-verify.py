#!/usr/bin/env python3
"""Verifies an access token the way an OIDC-aware API does, with PyJWT (a verifier library
from the registry, not ours): discovery at <issuer>/.well-known/openid-configuration, the
issuer it names must be that URL, the keys come from its jwks_uri, then the signature (with
the algorithms it lists), issuer, audience and lifetime are checked.

    scripts/oidc-verify.py <issuer URL> <audience> <token>

Prints the claims and exits 0 when the token verifies; exits 1 with the reason otherwise.
`tests/integration/discovery.rs` runs it against the local server (`make test` installs
PyJWT into .venv from requirements-tools.txt).
"""
import json
import sys
import urllib.request

import jwt

REQUIRED = ("issuer", "jwks_uri", "response_types_supported", "subject_types_supported",
            "id_token_signing_alg_values_supported")


def main(issuer: str, audience: str, token: str) -> int:
    with urllib.request.urlopen(issuer.rstrip("/") + "/.well-known/openid-configuration") as reply:
        doc = json.load(reply)
    missing = [field for field in REQUIRED if field not in doc]
    if missing:
        print(f"discovery document lacks {missing}", file=sys.stderr)
        return 1
    if doc["issuer"] != issuer:
        print(f"discovery names issuer {doc['issuer']!r}, fetched from {issuer!r}", file=sys.stderr)
        return 1
    try:
        key = jwt.PyJWKClient(doc["jwks_uri"]).get_signing_key_from_jwt(token)
        claims = jwt.decode(token, key.key, algorithms=doc["id_token_signing_alg_values_supported"],
                            audience=audience, issuer=doc["issuer"],
                            options={"require": ["exp", "iat", "sub", "iss", "aud"]})
    except jwt.PyJWTError as error:
        print(f"refused: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(json.dumps(claims))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
