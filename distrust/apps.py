from django.apps import AppConfig


class DistrustConfig(AppConfig):
    name = "distrust"
