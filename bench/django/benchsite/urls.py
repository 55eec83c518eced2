from django.urls import path
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from accounts.views import MeView

# `/me` as the bench asks for it, and the same view under the API's own path; login and
# refresh are simplejwt's own views (`{username, password}` → `{access, refresh}`;
# `{refresh}` → `{access}`, the refresh token not rotated, simplejwt's default).
urlpatterns = [
    path("me", MeView.as_view()),
    path("api/v1/auth/me", MeView.as_view()),
    path("api/v1/auth/login", TokenObtainPairView.as_view()),
    path("api/v1/auth/refresh", TokenRefreshView.as_view()),
]
