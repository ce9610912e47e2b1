from django.urls import path

from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("requests/new/", views.request_new, name="new"),
    path("verify/<str:token>/", views.verify, name="verify"),
    path("verify-link/<str:token>/", views.verify_link, name="verify_link"),
    path("status/<str:token>/", views.status, name="status"),
]

# The access package (portal/views_package.py): a fresh code, then a signed link.
from portal import views_package  # noqa: E402

urlpatterns += [
    path("package/<str:token>/", views_package.package, name="package"),
    path(
        "package/files/<str:token>/",
        views_package.package_files,
        name="package_files",
    ),
    path(
        "package/download/<str:token>/",
        views_package.package_download,
        name="package_download",
    ),
    path(
        "package/letter/<str:token>/",
        views_package.package_letter,
        name="package_letter",
    ),
]

# The subject's consent page (portal/views_consent.py), behind a signed link.
from portal import views_consent  # noqa: E402

urlpatterns += [
    path("consents/<str:token>/", views_consent.consents, name="consents"),
]

# Privacy choices with no request (portal/views_choices.py): a code opens the
# consent page; the CCPA opt-out links need none.
from portal import views_choices  # noqa: E402

urlpatterns += [
    path("choices/", views_choices.choices, name="choices"),
    path(
        "choices/code/<str:public_id>/",
        views_choices.choices_code,
        name="choices_code",
    ),
    path("choices/do-not-sell/", views_choices.do_not_sell, name="do_not_sell"),
    path(
        "choices/limit-sensitive/",
        views_choices.limit_sensitive,
        name="limit_sensitive",
    ),
]

# The data-point step of a CCPA requester's verification (CCPA-REG §7062).
from portal import views_data_points  # noqa: E402

urlpatterns += [
    path(
        "verify/details/<str:token>/",
        views_data_points.data_points,
        name="data_points",
    ),
]
