"""`manage.py bench_setup --token-file PATH`: migrates, makes the bench user (or keeps the
one there is) with the password in `DJANGO_BENCH_PASSWORD` (unusable when unset), and writes
a fresh ES256 access token for it to PATH."""
import os
import uuid
from datetime import timedelta
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User


class Command(BaseCommand):
    help = "Migrate, create the bench user and write a fresh access token to a file."

    def add_arguments(self, parser):
        parser.add_argument("--token-file", required=True, type=Path)
        parser.add_argument("--lifetime", type=int, default=3600, help="token lifetime in seconds (default 3600)")

    def handle(self, *args, token_file: Path, lifetime: int, **options):
        call_command("migrate", interactive=False, verbosity=0)
        user, _ = User.objects.update_or_create(
            username="bench_reader",
            defaults={
                "email": "bench_reader@example.com",
                "email_verified": True,
                "display_name": "Bench Reader",
                "first_name": "Bench",
                "last_name": "Reader",
                "role": "reader",
                "tier": "free",
                "is_guest": False,
                "preferences": {"theme": "dark", "notifications": True},
            },
        )
        password = os.environ.get("DJANGO_BENCH_PASSWORD")
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(update_fields=["password"])

        token = AccessToken.for_user(user)
        token.set_exp(lifetime=timedelta(seconds=lifetime))
        # The claims the Rust server's access tokens carry too, so both verify a token of
        # about the same size.
        token["sid"] = str(uuid.uuid4())
        token["role"] = user.role
        token["tier"] = user.tier
        token["guest"] = user.is_guest

        token_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = token_file.with_name(f".{token_file.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(str(token))
        os.replace(tmp, token_file)
        self.stdout.write(f"bench user {user.id}; token written to {token_file}")
