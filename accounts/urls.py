from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("account/", views.account_home, name="home"),
    path("dashboard/", views.dashboard_home, name="dashboard"),
    path("dashboard/users/", views.user_list_view, name="user_list"),
    path("dashboard/lockouts/", views.lockout_list, name="lockouts"),
    path("dashboard/lockouts/<int:pk>/clear/", views.lockout_clear, name="lockout_clear"),
]
