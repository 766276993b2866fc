from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from workflows import views

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("programs/<slug:slug>/apply/", views.apply, name="apply"),
    path("applications/<uuid:public_id>/submitted/", views.submitted, name="submitted"),
    path("work/", views.inbox, name="inbox"),
    path("work/tasks/<int:task_id>/", views.task_detail, name="task"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
