"""Key material of the bench server, made once and kept under the state directory.

Every process (manage.py, each gunicorn worker) must read the same keys, so a file is
written under a temporary name and linked into place: whoever links first wins and the
others read the winner's file.
"""
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def _read_or_create(path: Path, make) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(make())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_bytes()


def _new_p256_key() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def es256_key_pair(state_dir: Path) -> tuple[str, str]:
    """The PEM private key (made if missing) and its PEM public key."""
    private_pem = _read_or_create(state_dir / "es256-private.pem", _new_p256_key)
    public_pem = (
        serialization.load_pem_private_key(private_pem, password=None)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return private_pem.decode(), public_pem.decode()


def secret_key(state_dir: Path) -> str:
    """Django's SECRET_KEY (unused by ES256 tokens, but Django refuses to start without one)."""
    return _read_or_create(state_dir / "secret-key", lambda: secrets.token_urlsafe(50).encode()).decode()
