from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from workflows import account_views, apply_views, citizen_views, message_views, views

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("programs/<slug:slug>/", apply_views.start, name="apply_start"),
    path("programs/<slug:slug>/begin/", apply_views.begin, name="apply_begin"),
    path("apply/<uuid:public_id>/", apply_views.tasks, name="apply_tasks"),
    path("apply/<uuid:public_id>/check/", apply_views.check, name="apply_check"),
    path("apply/<uuid:public_id>/saved/", apply_views.saved, name="apply_saved"),
    path("apply/<uuid:public_id>/continue-link/", apply_views.timed_out_link, name="apply_timed_out_link"),
    path("apply/<uuid:public_id>/<slug:page_id>/", apply_views.page, name="apply_page"),
    path("apply/<uuid:public_id>/<slug:page_id>/fields/", apply_views.page_fields, name="apply_page_fields"),
    path("resume/<str:token>/", apply_views.resume, name="apply_resume"),
    path("session/keepalive/", apply_views.keepalive, name="keepalive"),
    path("applications/<uuid:public_id>/submitted/", apply_views.submitted, name="submitted"),
    path("applications/<uuid:public_id>/already-submitted/", apply_views.already_submitted, name="already_submitted"),
    path("applications/<uuid:public_id>/receipt/", apply_views.receipt, name="receipt"),
    path("my/applications/", citizen_views.my_applications, name="my_applications"),
    path("my/applications/<uuid:public_id>/", citizen_views.my_application, name="my_application"),
    path("my/applications/<uuid:public_id>/withdraw/", citizen_views.withdraw, name="my_application_withdraw"),
    path("my/messages/", message_views.message_list, name="my_messages"),
    path("my/messages/<int:notice_id>/", message_views.message_detail, name="my_message"),
    path("work/assisted/", apply_views.assisted_start, name="assisted_start"),
    path("work/", views.inbox, name="inbox"),
    path("work/tasks/<int:task_id>/", views.task_detail, name="task"),
    path("work/tasks/<int:task_id>/files/<uuid:upload_id>/", views.task_file, name="task_file"),
    path("account/create/", account_views.create, name="account_create"),
    path("account/check-email/", account_views.check_email, name="account_check_email"),
    path("account/verify/resend/", account_views.resend, name="account_resend"),
    path("account/verify/<str:token>/", account_views.verify, name="account_verify"),
    path("account/sign-in/", account_views.sign_in, name="account_sign_in"),
    path("account/sign-out/", account_views.sign_out, name="account_sign_out"),
    path("account/password-reset/", account_views.password_reset, name="account_password_reset"),
    path("account/password-reset/sent/", account_views.password_reset_sent, name="account_password_reset_sent"),
    path(
        "account/password-reset/<uidb64>/<token>/",
        account_views.password_reset_confirm,
        name="account_password_reset_confirm",
    ),
    path("account/password-reset/done/", account_views.password_reset_done, name="account_password_reset_done"),
    path("accounts/login/", account_views.StaffLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("workflows.api.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

if settings.CIVICFLOW_OIDC_ENABLED:
    # Staff single sign-on (workflows/oidc.py): /oidc/authenticate/, /oidc/callback/, /oidc/logout/.
    urlpatterns.append(path("oidc/", include("mozilla_django_oidc.urls")))
