
app_name = "attendance"

urlpatterns: list = []
