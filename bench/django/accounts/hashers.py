"""Django's Argon2PasswordHasher (argon2-cffi) with the Rust server's parameters: argon2id,
m=19456 KiB, t=2, p=1 (Django's defaults are 100 MiB and 8 lanes)."""
from django.contrib.auth.hashers import Argon2PasswordHasher


class SameArgon2idHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19456
    parallelism = 1
