"""Routes under /opendsr/v1/ (spec §3.4: the major version leads the path).

`requests` is OpenDSR 2.0's name; `opengdpr_requests` is OpenGDPR 1.0's,
which §10.1 says every party MUST still honour.
"""

from django.urls import path

from opendsr.api import views

urlpatterns = [
    path("discovery", views.DiscoveryView.as_view(), name="opendsr-discovery"),
    path("certificate.pem", views.certificate, name="opendsr-certificate"),
    # We as a controller: processors call back here (connectors/kinds/opendsr.py).
    path(
        "callbacks/<str:task_id>", views.CallbackView.as_view(), name="opendsr-callback"
    ),
]
for prefix in ("requests", "opengdpr_requests"):
    urlpatterns += [
        path(prefix, views.RequestsView.as_view(), name=f"opendsr-{prefix}"),
        path(
            f"{prefix}/<str:subject_request_id>",
            views.RequestView.as_view(),
            name=f"opendsr-{prefix}-detail",
        ),
    ]
