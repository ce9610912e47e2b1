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
