#!/usr/bin/env python3
"""Makes tests/fixtures/legacy-hashes.json: real password hashes in the formats the five book
apps store (issue 17), made by the real libraries, for the Rust tests of legacy verification.

    python3 scripts/legacy-hash-fixtures.py [OUT.json]

Run it with any Python 3 (3.10-3.13; needs the venv module: `scripts/apt-install.sh python3
python3-venv`). It makes its own throwaway virtualenv (default .local/legacy-hash-fixtures-venv,
git-ignored; override with LEGACY_HASH_VENV=/tmp/somewhere), pip-installs the pinned versions
below into it (only when the pins changed), re-runs itself there and writes OUT.json (default
tests/fixtures/legacy-hashes.json). It takes about a minute on 2 cores; every run draws new salts,
so the file changes on each run. Commit the script and its output together.

The file is a JSON array (UTF-8, non-ASCII left as is) of
    {"scheme": ..., "password": ..., "hash": ..., "made_by": ...}
one per scheme name below; "password" is the right password (a distinct one per entry, a few of
them non-ASCII to catch encoding bugs: passwords are hashed as their UTF-8 bytes, NFC).

    django_pbkdf2_sha256       Django make_password, PBKDF2PasswordHasher, Django's default
                               iterations (1,000,000 in Django 5.2): pbkdf2_sha256$1000000$salt$b64
    django_pbkdf2_sha256_100k  same hasher, PBKDF2PasswordHasher().encode(..., iterations=100000)
    django_pbkdf2_sha1         PBKDF2SHA1PasswordHasher: pbkdf2_sha1$1000000$salt$b64
    django_argon2              Argon2PasswordHasher: argon2$argon2id$v=19$m=102400,t=2,p=8$salt$hash
    django_bcrypt_sha256       BCryptSHA256PasswordHasher: bcrypt_sha256$$2b$12$... (bcrypt over
                               the hex SHA-256 of the password)
    django_bcrypt              BCryptPasswordHasher: bcrypt$$2b$12$...
    django_md5                 MD5PasswordHasher: md5$salt$hex (weak: must never log in)
    django_sha1                Django removed SHA1PasswordHasher in 5.1: made by passlib's
                               django_salted_sha1, Django's sha1$salt$hex (must never log in)
    django_unsalted_md5        Django removed UnsaltedMD5PasswordHasher in 5.1: its output is the
                               bare 32-hex MD5, made by passlib's hex_md5 (must never log in)
    django_unusable            make_password(None): "!" + 40 random chars. No password matches;
                               "password" is only a candidate that must be refused.
    laravel_bcrypt_2y_10/_12   PHP password_hash() style $2y$10$ / $2y$12$: passlib
                               bcrypt.using(ident="2y") on the pyca bcrypt backend
    node_bcrypt_2a             $2a$10$: passlib bcrypt.using(ident="2a")
    node_bcrypt_2b             $2b$10$: pyca bcrypt.hashpw(pw, bcrypt.gensalt(10))
    phc_argon2id / phc_argon2i passlib argon2 (argon2-cffi backend), PHC $argon2id$ / $argon2i$
    passlib_pbkdf2_sha256      passlib pbkdf2_sha256: $pbkdf2-sha256$29000$<salt>$<hash>, salt 16
                               raw bytes and a 32-byte key, both in passlib's "adapted base64"
                               (standard alphabet with "." in place of "+", no "=" padding)
    passlib_scrypt             passlib scrypt: $scrypt$ln=16,r=8,p=1$<salt>$<hash>, N = 2^ln,
                               salt 16 raw bytes and a 32-byte key in standard base64 (+ and /)
                               without padding

Before writing, every entry is checked with the library that made it and, where one exists, an
independent one (Django's check_password, passlib, pyca bcrypt, argon2-cffi, Python's crypt
module (libxcrypt) for bcrypt when present, and hashlib re-deriving the passlib pbkdf2/scrypt
keys from the documented format); the right password must verify (never, for the weak and
unusable ones, in the implementation the service will follow) and wrong ones must not.

Why bcrypt 4.3.0 and not 5.0.0: passlib 1.7.4's bcrypt backend self-test hashes a 255-byte
password, which bcrypt 5 refuses (ValueError), so passlib cannot use bcrypt 5; 4.3.0 is the
newest release it works with (it logs a harmless "error reading bcrypt version", silenced here).
Django 5.2 is the LTS line the bench uses (bench/django/requirements.txt).
"""
import os
import subprocess
import sys
import time

PINS = {
    "Django": "5.2.19",
    "argon2-cffi": "25.1.0",
    "argon2-cffi-bindings": "26.2.0",
    "bcrypt": "4.3.0",
    "passlib": "1.7.4",
}

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.abspath(os.environ.get("LEGACY_HASH_VENV") or os.path.join(ROOT, ".local", "legacy-hash-fixtures-venv"))
DEFAULT_OUT = os.path.join(ROOT, "tests", "fixtures", "legacy-hashes.json")


def in_venv() -> bool:
    return os.path.realpath(sys.prefix) == os.path.realpath(VENV)


def ensure_venv() -> None:
    """Makes VENV with the pins (unless it already has exactly them) and re-runs this script in it."""
    python = os.path.join(VENV, "bin", "python")
    stamp = os.path.join(VENV, ".pins")
    want = "\n".join(f"{name}=={version}" for name, version in sorted(PINS.items())) + "\n"
    have = open(stamp).read() if os.path.exists(stamp) else None
    if have != want or not os.path.exists(python):
        print(f"legacy-hash-fixtures: making {VENV}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", "--clear", VENV], check=True)
        subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        *want.split()], check=True)
        with open(stamp, "w") as f:
            f.write(want)
    os.execv(python, [python, os.path.abspath(__file__), *sys.argv[1:]])


# ---------------------------------------------------------------------------------------------
# Everything below runs inside the venv.

def generate(out_path: str) -> None:
    import base64
    import hashlib
    import json
    import logging
    import re
    import unicodedata
    import warnings
    from importlib.metadata import version

    for name, pinned in PINS.items():
        assert version(name) == pinned, f"{name} {version(name)} installed, {pinned} pinned"
    logging.getLogger("passlib.handlers.bcrypt").setLevel(logging.ERROR)

    from django.conf import settings
    settings.configure(PASSWORD_HASHERS=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
        "django.contrib.auth.hashers.BCryptPasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ])
    import django
    django.setup()
    from django.contrib.auth import hashers as dj
    import argon2
    import bcrypt
    from passlib import hash as ph

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import crypt as libcrypt  # libxcrypt; gone in Python 3.13
        probe = "$2b$04$" + "a" * 22
        if libcrypt.crypt("x", probe) is None or not libcrypt.crypt("x", probe).startswith("$2b$04$"):
            libcrypt = None
    except ImportError:
        libcrypt = None

    V = {name: version(name) for name in PINS}
    DJ = f"Django {V['Django']}"
    PL = f"passlib {V['passlib']}"
    BC = f"bcrypt {V['bcrypt']}"
    AR = f"argon2-cffi {V['argon2-cffi']}"

    def pw(n: int) -> str:
        return f"Tr0ub4dor&3-horse-{n}"

    def pw_intl(n: int) -> str:
        return unicodedata.normalize("NFC", f"p\u00e4ssw\u00f6rd-\u65e5\u672c-{n}")

    # -- independent verifiers -------------------------------------------------------------
    def b64_nopad_decode(text: str, adapted: bool) -> bytes:
        if adapted:  # passlib's ab64: "." stands for "+"
            assert "+" not in text
            text = text.replace(".", "+")
        assert "=" not in text
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)

    def rederive_passlib_pbkdf2_sha256(password: str, stored: str) -> bool:
        m = re.fullmatch(r"\$pbkdf2-sha256\$(\d+)\$([A-Za-z0-9./]+)\$([A-Za-z0-9./]+)", stored)
        rounds, salt, key = int(m[1]), b64_nopad_decode(m[2], True), b64_nopad_decode(m[3], True)
        assert len(salt) == 16 and len(key) == 32, (len(salt), len(key))
        return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, rounds, dklen=len(key)) == key

    def rederive_passlib_scrypt(password: str, stored: str) -> bool:
        m = re.fullmatch(r"\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)", stored)
        ln, r, p = int(m[1]), int(m[2]), int(m[3])
        salt, key = b64_nopad_decode(m[4], False), b64_nopad_decode(m[5], False)
        assert len(salt) == 16 and len(key) == 32, (len(salt), len(key))
        derived = hashlib.scrypt(password.encode(), salt=salt, n=1 << ln, r=r, p=p,
                                 maxmem=256 * r * (1 << ln) + (1 << 20), dklen=len(key))
        return derived == key

    def rederive_django_pbkdf2(digest: str):
        def check(password: str, stored: str) -> bool:
            algorithm, iterations, salt, b64 = stored.split("$")
            key = hashlib.pbkdf2_hmac(digest, password.encode(), salt.encode("ascii"), int(iterations))
            return base64.b64encode(key).decode() == b64
        return check

    def argon2_cffi_verify(password: str, stored: str) -> bool:
        try:
            return argon2.PasswordHasher().verify(stored, password)
        except argon2.exceptions.VerifyMismatchError:
            return False

    def pyca_bcrypt_verify(password: str, stored: str) -> bool:
        return bcrypt.checkpw(password.encode(), stored.encode())

    def libxcrypt_verify(password: str, stored: str) -> bool:
        return libcrypt.crypt(password, stored) == stored

    def passlib_verify(handler):
        # passlib loads a handler's backend lazily and then replaces its methods: look the method
        # up at call time (a reference taken before the load raises "failed to replace lazy loader").
        return lambda password, stored: handler.verify(password, stored)

    bcrypt_verifiers = [passlib_verify(ph.bcrypt), pyca_bcrypt_verify] + ([libxcrypt_verify] if libcrypt else [])
    dj_check = dj.check_password

    # -- the entries --------------------------------------------------------------------------
    # Each: scheme, password, hash-making function, made_by, the exact shape (regex) and the
    # verifiers (the making library first). The weak ones (md5, sha1, unsalted md5) do verify in
    # these libraries, which proves the fixture right; the service must still refuse them.
    pbkdf2 = dj.PBKDF2PasswordHasher()
    argon2_dj = dj.Argon2PasswordHasher()
    bcrypt_2y = ph.bcrypt.using(ident="2y")
    swap = " (passlib swaps to $2b$ and back: the backend lacks $2y$)" if bcrypt_2y._lacks_2y_support else \
        " (the pyca bcrypt backend takes the $2y$ salt as is: no prefix swap)"
    specs = [
        ("django_pbkdf2_sha256", pw(1),
         lambda p: dj.make_password(p, hasher="pbkdf2_sha256"),
         f"{DJ} make_password(password, hasher='pbkdf2_sha256') "
         f"(PBKDF2PasswordHasher, Django {V['Django']} default iterations {pbkdf2.iterations})",
         rf"pbkdf2_sha256\${pbkdf2.iterations}\$[A-Za-z0-9]{{22}}\$[A-Za-z0-9+/]{{43}}=",
         [dj_check, rederive_django_pbkdf2("sha256"), passlib_verify(ph.django_pbkdf2_sha256)]),
        ("django_pbkdf2_sha256_100k", pw_intl(1),
         lambda p: pbkdf2.encode(p, pbkdf2.salt(), iterations=100000),
         f"{DJ} PBKDF2PasswordHasher().encode(password, hasher.salt(), iterations=100000)",
         r"pbkdf2_sha256\$100000\$[A-Za-z0-9]{22}\$[A-Za-z0-9+/]{43}=",
         [dj_check, rederive_django_pbkdf2("sha256"), passlib_verify(ph.django_pbkdf2_sha256)]),
        ("django_pbkdf2_sha1", pw_intl(2),
         lambda p: dj.make_password(p, hasher="pbkdf2_sha1"),
         f"{DJ} make_password(password, hasher='pbkdf2_sha1') "
         f"(PBKDF2SHA1PasswordHasher, iterations {dj.PBKDF2SHA1PasswordHasher.iterations})",
         rf"pbkdf2_sha1\${dj.PBKDF2SHA1PasswordHasher.iterations}\$[A-Za-z0-9]{{22}}\$[A-Za-z0-9+/]{{27}}=",
         [dj_check, rederive_django_pbkdf2("sha1"), passlib_verify(ph.django_pbkdf2_sha1)]),
        ("django_argon2", pw(2),
         lambda p: dj.make_password(p, hasher="argon2"),
         f"{DJ} make_password(password, hasher='argon2') (Argon2PasswordHasher on {AR}: argon2id "
         f"t={argon2_dj.time_cost} m={argon2_dj.memory_cost} p={argon2_dj.parallelism})",
         rf"argon2\$argon2id\$v=19\$m={argon2_dj.memory_cost},t={argon2_dj.time_cost},"
         rf"p={argon2_dj.parallelism}\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+",
         [dj_check, passlib_verify(ph.django_argon2),
          lambda p, h: argon2_cffi_verify(p, h[len("argon2"):])]),
        ("django_bcrypt_sha256", pw_intl(3),
         lambda p: dj.make_password(p, hasher="bcrypt_sha256"),
         f"{DJ} make_password(password, hasher='bcrypt_sha256') (BCryptSHA256PasswordHasher on "
         f"{BC}, rounds {dj.BCryptSHA256PasswordHasher.rounds}: bcrypt over the hex SHA-256)",
         r"bcrypt_sha256\$\$2b\$12\$[./A-Za-z0-9]{53}",
         [dj_check, passlib_verify(ph.django_bcrypt_sha256),
          lambda p, h: pyca_bcrypt_verify(hashlib.sha256(p.encode()).hexdigest(), h[len("bcrypt_sha256$"):])]),
        ("django_bcrypt", pw(3),
         lambda p: dj.make_password(p, hasher="bcrypt"),
         f"{DJ} make_password(password, hasher='bcrypt') (BCryptPasswordHasher on {BC}, "
         f"rounds {dj.BCryptPasswordHasher.rounds})",
         r"bcrypt\$\$2b\$12\$[./A-Za-z0-9]{53}",
         [dj_check, passlib_verify(ph.django_bcrypt),
          lambda p, h: pyca_bcrypt_verify(p, h[len("bcrypt$"):])]),
        ("django_md5", pw(4),
         lambda p: dj.make_password(p, hasher="md5"),
         f"{DJ} make_password(password, hasher='md5') (MD5PasswordHasher; weak: must never log in)",
         r"md5\$[A-Za-z0-9]{22}\$[0-9a-f]{32}",
         [dj_check, passlib_verify(ph.django_salted_md5)]),
        ("django_sha1", pw(5),
         lambda p: ph.django_salted_sha1.using(salt_size=22).hash(p),
         f"{PL} django_salted_sha1.using(salt_size=22).hash(password): Django's sha1$salt$hex "
         f"(Django removed SHA1PasswordHasher in 5.1, so {DJ} cannot make it; weak: must never log in)",
         r"sha1\$[A-Za-z0-9]{22}\$[0-9a-f]{40}",
         [passlib_verify(ph.django_salted_sha1),
          lambda p, h: hashlib.sha1((h.split("$")[1] + p).encode()).hexdigest() == h.split("$")[2]]),
        ("django_unsalted_md5", pw(6),
         lambda p: ph.hex_md5.hash(p),
         f"{PL} hex_md5.hash(password): the bare hex MD5 that Django's UnsaltedMD5PasswordHasher "
         f"stored (removed in Django 5.1, so {DJ} cannot make it; weak: must never log in)",
         r"[0-9a-f]{32}",
         [passlib_verify(ph.hex_md5), lambda p, h: hashlib.md5(p.encode()).hexdigest() == h]),
        ("django_unusable", pw(7),
         lambda p: dj.make_password(None),
         f"{DJ} make_password(None): an unusable password; no password matches it, the "
         f"'password' field is only a candidate that must be refused",
         r"![A-Za-z0-9]{40}",
         [dj_check, passlib_verify(ph.django_disabled)]),
        ("laravel_bcrypt_2y_10", pw(8),
         lambda p: bcrypt_2y.using(rounds=10).hash(p),
         f"{PL} bcrypt.using(ident='2y', rounds=10).hash(password) on {BC}{swap}",
         r"\$2y\$10\$[./A-Za-z0-9]{53}", bcrypt_verifiers),
        ("laravel_bcrypt_2y_12", pw_intl(4),
         lambda p: bcrypt_2y.using(rounds=12).hash(p),
         f"{PL} bcrypt.using(ident='2y', rounds=12).hash(password) on {BC}{swap}",
         r"\$2y\$12\$[./A-Za-z0-9]{53}", bcrypt_verifiers),
        ("node_bcrypt_2a", pw(9),
         lambda p: ph.bcrypt.using(ident="2a", rounds=10).hash(p),
         f"{PL} bcrypt.using(ident='2a', rounds=10).hash(password) on {BC}",
         r"\$2a\$10\$[./A-Za-z0-9]{53}", bcrypt_verifiers),
        ("node_bcrypt_2b", pw(10),
         lambda p: bcrypt.hashpw(p.encode(), bcrypt.gensalt(10)).decode(),
         f"{BC} bcrypt.hashpw(password.encode(), bcrypt.gensalt(10))",
         r"\$2b\$10\$[./A-Za-z0-9]{53}", bcrypt_verifiers),
        ("phc_argon2id", pw(11),
         lambda p: ph.argon2.hash(p),
         f"{PL} argon2.hash(password) on {AR} (defaults: type id, "
         f"t={ph.argon2.default_rounds} m={ph.argon2.memory_cost} p={ph.argon2.parallelism})",
         rf"\$argon2id\$v=19\$m={ph.argon2.memory_cost},t={ph.argon2.default_rounds},"
         rf"p={ph.argon2.parallelism}\$[A-Za-z0-9+/]{{22}}\$[A-Za-z0-9+/]{{43}}",
         [passlib_verify(ph.argon2), argon2_cffi_verify]),
        ("phc_argon2i", pw_intl(5),
         lambda p: ph.argon2.using(type="i").hash(p),
         f"{PL} argon2.using(type='i').hash(password) on {AR} "
         f"(t={ph.argon2.default_rounds} m={ph.argon2.memory_cost} p={ph.argon2.parallelism})",
         rf"\$argon2i\$v=19\$m={ph.argon2.memory_cost},t={ph.argon2.default_rounds},"
         rf"p={ph.argon2.parallelism}\$[A-Za-z0-9+/]{{22}}\$[A-Za-z0-9+/]{{43}}",
         [passlib_verify(ph.argon2), argon2_cffi_verify]),
        ("passlib_pbkdf2_sha256", pw(12),
         lambda p: ph.pbkdf2_sha256.hash(p),
         f"{PL} pbkdf2_sha256.hash(password) (rounds {ph.pbkdf2_sha256.default_rounds}; salt 16 "
         f"raw bytes and 32-byte key in passlib's adapted base64: the standard alphabet with '.' in place of '+', '/' kept, no '=' padding)",
         rf"\$pbkdf2-sha256\${ph.pbkdf2_sha256.default_rounds}\$[A-Za-z0-9./]{{22}}\$[A-Za-z0-9./]{{43}}",
         [passlib_verify(ph.pbkdf2_sha256), rederive_passlib_pbkdf2_sha256]),
        ("passlib_scrypt", pw_intl(6),
         lambda p: ph.scrypt.hash(p),
         f"{PL} scrypt.hash(password) ({ph.scrypt.get_backend()} backend, hashlib.scrypt; "
         f"ln={ph.scrypt.default_rounds} (N=2^ln) r={ph.scrypt.block_size} p={ph.scrypt.parallelism}; "
         f"salt 16 raw bytes and 32-byte key in standard base64 (+/) without padding)",
         rf"\$scrypt\$ln={ph.scrypt.default_rounds},r={ph.scrypt.block_size},p={ph.scrypt.parallelism}"
         r"\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}",
         [passlib_verify(ph.scrypt), rederive_passlib_scrypt]),
    ]

    passwords = [spec[1] for spec in specs]
    assert len(set(passwords)) == len(passwords), "passwords must be distinct"

    entries = []
    for scheme, password, make, made_by, shape, verifiers in specs:
        started = time.monotonic()
        stored = make(password)
        assert re.fullmatch(shape, stored), f"{scheme}: {stored!r} does not match {shape!r}"
        unusable = scheme == "django_unusable"
        assert dj.is_password_usable(stored) is not unusable, scheme
        wrong = [password + "!", password[:-1], password.upper(), "", pw(99)]
        if not password.isascii():  # the same text in another encoding / normal form must fail
            wrong += [password.encode().decode("latin-1"), unicodedata.normalize("NFD", password)]
        for i, verify in enumerate(verifiers):
            ok = verify(password, stored)
            assert ok is (not unusable), f"{scheme}: verifier #{i} gave {ok} for the right password"
            for bad in wrong:
                assert verify(bad, stored) is False, f"{scheme}: verifier #{i} accepted {bad!r}"
        entries.append({"scheme": scheme, "password": password, "hash": stored, "made_by": made_by})
        print(f"  {scheme:27} {time.monotonic() - started:6.2f}s  {len(verifiers)} verifiers  {stored[:40]}…",
              file=sys.stderr)

    assert len({e["hash"] for e in entries}) == len(entries)
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(entries, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(f"legacy-hash-fixtures: wrote {len(entries)} entries to {os.path.relpath(out_path, ROOT)}"
          f" ({', '.join(f'{k} {v}' for k, v in V.items())}; libxcrypt cross-check "
          f"{'on' if libcrypt else 'off'})", file=sys.stderr)


if __name__ == "__main__":
    if not in_venv():
        ensure_venv()
    t0 = time.monotonic()
    generate(os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT)
    print(f"legacy-hash-fixtures: {time.monotonic() - t0:.1f}s", file=sys.stderr)
