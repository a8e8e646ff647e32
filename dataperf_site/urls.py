from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """Browsers ask for /favicon.ico on pages that name no icon (the API's JSON, files): the site's icon."""
    return HttpResponseRedirect(static("img/favicon.svg"))


admin.site.site_header = "DataPerf platform administration"
admin.site.site_title = "DataPerf admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("accounts/", include("apps.accounts.urls")),
    path("api/", include("apps.api.urls")),
    path("", include("apps.submissions.urls")),
    path("submissions/", include("apps.jobs.urls")),
    path("", include("apps.leaderboards.urls")),
    path("", include("apps.ratchets.urls")),
    path("", include("apps.backoffice.urls")),
    path("", include("apps.challenges.urls")),
]
