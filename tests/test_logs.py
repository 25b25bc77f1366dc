"""The log redacts secrets by value and by shape."""

import logging

from ktopui.logs import MASK, kubeconfig_secrets, redact, start_log

KEY = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB0xZm9vYmFy\n-----END EC PRIVATE KEY-----"


def test_known_secrets_and_credential_shapes_are_masked():
    text = redact(
        'token s3cr3t-value; Authorization: Bearer abc.def-123456; jwt eyJhbGciOi.eyJzdWIiOiJq.c2ln; '
        f'{{"token": "xyz123456", "clientKeyData": "AAAA"}} {KEY}',
        secrets={"s3cr3t-value"},
    )
    for secret in ("s3cr3t-value", "abc.def-123456", "eyJhbGciOi", "xyz123456", "MHcCAQEEIB0xZm9vYmFy"):
        assert secret not in text
    assert text.count(MASK) >= 5


def test_kubeconfig_secrets_are_collected(tmp_path):
    path = tmp_path / "config"
    path.write_text(
        "users:\n- name: a\n  user:\n    token: tok-123456\n- name: b\n  user:\n    password: pw-654321\n"
        "    client-key-data: a2V5\n"
    )
    assert kubeconfig_secrets([str(path)]) == {"tok-123456", "pw-654321", "a2V5"}


def test_log_file_never_holds_a_secret(tmp_path):
    log_file = tmp_path / "ktopui.log"
    logger = start_log(str(log_file), secrets={"tok-123456"})
    try:
        logger.warning("request with token tok-123456 failed: Bearer tok-123456")
        try:
            raise RuntimeError("boom tok-123456")
        except RuntimeError:
            logger.exception("while refreshing")
    finally:
        for name in ("ktopui", "httpx"):
            for handler in logging.getLogger(name).handlers[:]:
                logging.getLogger(name).removeHandler(handler)
                handler.close()
    content = log_file.read_text()
    assert "tok-123456" not in content and "boom" in content


def test_two_logs_each_redact_their_own_secrets(tmp_path):
    first, second = tmp_path / "a.log", tmp_path / "b.log"
    start_log(str(first), secrets={"alpha-secret"})
    logger = start_log(str(second), secrets={"beta-secret"})
    try:
        try:
            raise RuntimeError("alpha-secret beta-secret")
        except RuntimeError:
            logger.exception("failed")
    finally:
        for name in ("ktopui", "httpx"):
            for handler in logging.getLogger(name).handlers[:]:
                logging.getLogger(name).removeHandler(handler)
                handler.close()
    assert "alpha-secret" not in first.read_text() and "beta-secret" not in second.read_text()
    assert "RuntimeError" in first.read_text() and "RuntimeError" in second.read_text()
