"""The app's URLs and one more: a view that does nothing, behind the same middleware."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from outerloop.urls import handler404, urlpatterns

__all__ = ["handler404", "urlpatterns"]


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/bare/", bare), *urlpatterns]
