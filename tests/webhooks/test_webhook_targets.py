"""The SSRF guard: only public http(s) addresses receive webhooks, unless private ones are allowed."""

from __future__ import annotations

import pytest

from staffsync.webhooks.targets import TargetRefused, check_target


def no_dns(host: str, port: int) -> list[str]:
    raise AssertionError(f"literal addresses must not be looked up ({host})")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1", "loopback"),
        ("http://[::1]", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://0x7f000001", "loopback"),
        ("http://2130706433/", "loopback"),
        ("http://127.1/", "loopback"),
        ("http://10.0.0.1", "private"),
        ("http://192.168.1.10:8080/x", "private"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://[fc00::1]/", "private"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("file:///etc/passwd", "http or https"),
        ("gopher://x", "http or https"),
        ("https://user:pass@example.com/", "user name or password"),
        ("not a url", "http or https|not a valid URL"),
    ],
)
def test_non_public_and_non_http_targets_are_refused_with_a_clear_message(url: str, message: str) -> None:
    with pytest.raises(TargetRefused, match=message):
        check_target(url, allow_private=False, resolve=no_dns)


def test_a_host_name_resolving_to_a_private_address_is_refused() -> None:
    with pytest.raises(TargetRefused, match=r"'hooks\.example\.com' resolves to 10\.1\.2\.3"):
        check_target("https://hooks.example.com/in", allow_private=False, resolve=lambda host, port: ["10.1.2.3"])


def test_one_private_answer_among_public_ones_is_enough_to_refuse() -> None:
    with pytest.raises(TargetRefused, match="private"):
        check_target(
            "https://hooks.example.com/", allow_private=False, resolve=lambda h, p: ["93.184.215.14", "10.0.0.7"]
        )


def test_an_unresolvable_host_is_refused() -> None:
    def fail(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(TargetRefused, match="cannot be resolved"):
        check_target("https://nowhere.invalid/", allow_private=False, resolve=fail)


def test_a_public_host_is_pinned_to_its_checked_address_keeping_host_and_sni() -> None:
    target = check_target(
        "https://hooks.example.com:8443/in?x=1", allow_private=False, resolve=lambda h, p: ["93.184.215.14"]
    )
    url, headers, extensions = target.pinned_request()
    assert str(url) == "https://93.184.215.14:8443/in?x=1"
    assert headers == {"Host": "hooks.example.com:8443"}
    assert extensions == {"sni_hostname": "hooks.example.com"}


def test_private_addresses_are_accepted_when_the_install_allows_them() -> None:
    assert str(check_target("http://127.0.0.1:9000/h", allow_private=True, resolve=no_dns).addresses[0]) == "127.0.0.1"
