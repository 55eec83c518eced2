from datetime import datetime, timezone

from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import JWTAuthentication


def rfc3339(at: datetime) -> str:
    """RFC 3339 UTC with milliseconds and `Z`, as the Rust server writes times."""
    at = at.astimezone(timezone.utc)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


class MeView(APIView):
    """`GET /me`: JWTAuthentication verifies the ES256 token and loads the user by the
    token's `sub` (the one database round trip); the answer is api.md's User object."""

    authentication_classes = [JWTAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request):
        user = request.user
        return Response(
            {
                "id": str(user.id),
                "username": user.username,
                "email": user.email,
                "email_verified": user.email_verified,
                "display_name": user.display_name,
                "first_name": user.first_name,
                "last_name": user.last_name,
                "role": user.role,
                "tier": user.tier,
                "is_guest": user.is_guest,
                "preferences": user.preferences,
                "created_at": rfc3339(user.created_at),
                "updated_at": rfc3339(user.updated_at),
            }
        )
