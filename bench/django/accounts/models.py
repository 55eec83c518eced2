import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone


class User(AbstractBaseUser):
    """The User object of api.md in one row, so `GET /me` reads it with one query."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    username = models.CharField(max_length=150, unique=True, null=True)
    email = models.EmailField(max_length=254, unique=True, null=True)
    email_verified = models.BooleanField(default=False)
    display_name = models.CharField(max_length=100, null=True)
    first_name = models.CharField(max_length=150, null=True)
    last_name = models.CharField(max_length=150, null=True)
    role = models.CharField(max_length=32, default="reader")
    tier = models.CharField(max_length=32, default="free")
    is_guest = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    preferences = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = BaseUserManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []
