from django.urls import path

from . import rules

app_name = "rules"

urlpatterns = [
    path("", rules.rule_list, name="list"),
    path("<int:pk>/", rules.rule_change, name="change"),
]
