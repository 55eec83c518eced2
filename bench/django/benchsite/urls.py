from django.urls import path

from accounts.views import MeView

# `/me` as the bench asks for it, and the same view under the API's own path.
urlpatterns = [
    path("me", MeView.as_view()),
    path("api/v1/auth/me", MeView.as_view()),
]
