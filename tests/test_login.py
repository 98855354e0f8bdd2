"""Logging in: the workspace after, and throttling of repeated failures (django-axes)."""

from django.urls import reverse


def attempt(client, password):
    return client.post(reverse("login"), {"username": "kjj", "password": password})


def test_a_wrong_password_gets_a_chinese_message(world, client):
    response = attempt(client, "wrong")
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()


def test_five_failures_lock_the_account_for_that_address(world, client, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "wrong")
    response = attempt(client, "demo-pass-069")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert "登录失败次数过多" in response.content.decode()
