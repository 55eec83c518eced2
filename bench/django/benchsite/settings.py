"""Settings of the Django comparison server of `make bench`: served like production
(DEBUG off, persistent database connections, no browsable API), with only the apps and
middleware that JWT authentication of `GET /me` needs.
"""
import os
from datetime import timedelta
from pathlib import Path

from .keys import es256_key_pair, secret_key

# bench/django/benchsite/settings.py -> the repository root.
REPO_ROOT = Path(__file__).resolve().parents[3]
STATE_DIR = Path(os.environ.get("DJANGO_BENCH_STATE_DIR", REPO_ROOT / ".local" / "django"))

SECRET_KEY = secret_key(STATE_DIR)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

# contenttypes + auth: simplejwt imports django.contrib.auth's models, and the custom user
# model builds on its AbstractBaseUser. Neither `rest_framework` nor `rest_framework_simplejwt`
# is installed as an app: both are only needed for templates, static files or the blacklist.
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "accounts",
]
AUTH_USER_MODEL = "accounts.User"
# argon2id with the Rust server's parameters (accounts/hashers.py), so both logins pay the
# same hash and the comparison is of the implementations and servers, not of the costs.
PASSWORD_HASHERS = ["accounts.hashers.SameArgon2idHasher"]

# No sessions, CSRF, messages or common middleware: a bearer-token JSON API needs none.
MIDDLEWARE = []
ROOT_URLCONF = "benchsite.urls"
WSGI_APPLICATION = "benchsite.wsgi.application"

# PostgreSQL, as the real simplejwt servers deploy it: a private cluster that
# scripts/django-bench.sh starts for the run (unix socket only, trust auth), reached through
# psycopg 3's C build.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("DJANGO_BENCH_PG_DB", "bench"),
        "USER": os.environ.get("DJANGO_BENCH_PG_USER", "bench"),
        "HOST": os.environ.get("DJANGO_BENCH_PG_HOST", str(STATE_DIR / "pg-run")),
        "PORT": os.environ.get("DJANGO_BENCH_PG_PORT", "5432"),
        # Keep each worker's connection open across requests, as a production deployment
        # would, instead of reconnecting for every request (Django's default of 0).
        "CONN_MAX_AGE": None,
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

USE_TZ = True
TIME_ZONE = "UTC"
USE_I18N = False

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework_simplejwt.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": [],
}

_PRIVATE_PEM, _PUBLIC_PEM = es256_key_pair(STATE_DIR)
SIMPLE_JWT = {
    # PyJWT is called with algorithms=[ALGORITHM], so the algorithm is pinned; audience and
    # issuer are verified because they are set; exp is always verified.
    "ALGORITHM": "ES256",
    "SIGNING_KEY": _PRIVATE_PEM,
    "VERIFYING_KEY": _PUBLIC_PEM,
    "ISSUER": os.environ.get("DJANGO_BENCH_ISSUER", "http://127.0.0.1/bench-django"),
    "AUDIENCE": os.environ.get("DJANGO_BENCH_AUDIENCE", "bookshelf-auth"),
    "LEEWAY": 5,
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "sub",
    "UPDATE_LAST_LOGIN": False,
}
