"""The project's URLs plus a small protected API, to test the resource-server classes."""

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from apis.authentication import BearerTokenAuthentication
from apis.permissions import HasRequiredScopes
from config.urls import urlpatterns as project_urlpatterns
from tests.oauth import TIMESHEETS_API


class ProtectedApi(APIView):
    audience = TIMESHEETS_API
    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [HasRequiredScopes]
    required_scopes = {"GET": "read:timesheets", "POST": ("create:timesheets", "read:timesheets")}

    def get(self, request):
        return Response(
            {"sub": request.user.sub, "client_id": request.user.client_id, "machine": request.user.is_machine}
        )

    def post(self, request):
        return Response({"created": True})


urlpatterns = [*project_urlpatterns, path("test-api/", ProtectedApi.as_view())]
handler500 = "config.views.server_error"
