"""The floor of `make bench`: the least a Django project does per request."""
