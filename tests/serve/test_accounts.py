"""Accounts: argon2 hashes, tokens stored hashed, sessions, login limit, client links."""

from __future__ import annotations

import pytest

from hingecheck.serve import accounts
from hingecheck.serve.db import open_data_dir


@pytest.fixture
def conn(tmp_path):
    c = open_data_dir(tmp_path)
    yield c
    c.close()


def test_passwords_are_argon2_and_tokens_are_stored_hashed(conn):
    user = accounts.add_user(conn, "alice", "correct horse")
    stored = conn.execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert accounts.verify_password(conn, "alice", "correct horse") == user
    assert accounts.verify_password(conn, "alice", "wrong") is None
    assert accounts.verify_password(conn, "nobody", "correct horse") is None
    token = accounts.new_api_token(conn, "alice")
    assert (
        len(token) > 40
        and conn.execute(
            "SELECT COUNT(*) FROM api_tokens WHERE token_sha256 = ?", (accounts.sha256_hex(token),)
        ).fetchone()[0]
        == 1
    )
    assert token not in str([tuple(r) for r in conn.execute("SELECT * FROM api_tokens")])
    assert accounts.user_for_token(conn, token) == user and accounts.user_for_token(conn, token + "x") is None
    with pytest.raises(accounts.AccountError):
        accounts.add_user(conn, "alice", "another password")
    with pytest.raises(accounts.AccountError):
        accounts.add_user(conn, "carol", "short")


def test_sessions_and_login_limit(conn):
    user = accounts.add_user(conn, "alice", "correct horse")
    sid, csrf = accounts.create_session(conn, user)
    assert accounts.session_user(conn, sid) == (user, csrf)
    assert sid not in str([tuple(r) for r in conn.execute("SELECT * FROM sessions")])
    conn.execute("UPDATE sessions SET expires_at = 0")
    assert accounts.session_user(conn, sid) is None
    for _ in range(accounts.LOGIN_MAX_FAILURES):
        assert not accounts.login_blocked(conn, "1.2.3.4", "alice")
        accounts.record_login(conn, "1.2.3.4", "alice", False)
    assert accounts.login_blocked(conn, "1.2.3.4", "alice")
    assert not accounts.login_blocked(conn, "5.6.7.8", "alice")


def test_links_are_long_random_and_revocable(conn):
    alice = accounts.add_user(conn, "alice", "correct horse")
    bob = accounts.add_user(conn, "bob", "correct horse")
    cid, token = accounts.add_client(conn, alice, "Anna")
    assert len(token) >= 43  # token_urlsafe(32): 256 bits
    assert accounts.link_target(conn, token)["client_id"] == cid
    link_id = accounts.client_links(conn, cid)[0]["id"]
    assert not accounts.revoke_link(conn, bob, link_id)  # not bob's
    assert accounts.revoke_link(conn, alice, link_id)
    assert accounts.link_target(conn, token) is None
    with pytest.raises(accounts.AccountError):
        accounts.create_link(conn, bob, cid)
