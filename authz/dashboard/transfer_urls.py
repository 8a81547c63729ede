from django.urls import path

from . import transfer

app_name = "transfer"

urlpatterns = [
    path("", transfer.transfer_index, name="index"),
    path("export/", transfer.transfer_export, name="export"),
    path("import/", transfer.transfer_preview, name="preview"),
    path("import/apply/", transfer.transfer_apply, name="apply"),
]
