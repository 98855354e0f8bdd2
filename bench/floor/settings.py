"""A bare Django project: one view, no database, no sessions, no middleware."""

# Signs nothing: the floor has no sessions, cookies or forms.
SECRET_KEY = "bench-floor-signs-nothing"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = "floor.urls"
INSTALLED_APPS = []
MIDDLEWARE = []
DATABASES = {}
