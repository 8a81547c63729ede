from django.urls import path

from . import preview

app_name = "preview"

urlpatterns = [
    path("", preview.preview_index, name="index"),
]
