app_name = "distrust"

urlpatterns: list = []
