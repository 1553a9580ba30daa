"""``hingecheck users`` and ``clients``: accounts and links from the command line; the serve extra check."""

from __future__ import annotations

import io
import re

import pytest

from hingecheck.cli.main import main
from hingecheck.serve import accounts
from hingecheck.serve.db import open_data_dir


def test_users_and_clients_commands(tmp_path, capsys, monkeypatch):
    data = str(tmp_path / "d")
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    assert main(["users", "add", "alice", "--password-stdin", "--data", data]) == 0
    assert main(["users", "token", "alice", "--data", data]) == 0
    assert (
        main(
            ["clients", "add", "Anna", "--clinician", "alice", "--data", data, "--public-url", "https://clinic.example"]
        )
        == 0
    )
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "added clinician alice"
    token = out[1]
    url = out[2]
    assert re.fullmatch(r"https://clinic\.example/u/[A-Za-z0-9_-]{43}", url)
    conn = open_data_dir(data)
    assert accounts.verify_password(conn, "alice", "a long password") is not None
    assert accounts.user_for_token(conn, token).name == "alice"
    assert accounts.link_target(conn, url.rsplit("/", 1)[1])["client_name"] == "Anna"
    conn.close()
    assert main(["users", "list", "--data", data]) == 0
    assert "alice\t1 clients\t1 API tokens" in capsys.readouterr().out
    assert main(["clients", "list", "--clinician", "alice", "--data", data]) == 0
    assert "Anna\thttp://127.0.0.1:8000/u/" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    assert main(["users", "add", "alice", "--password-stdin", "--data", data]) == 2  # exists
    assert "exists already" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("another password\n"))
    assert main(["users", "password", "alice", "--password-stdin", "--data", data]) == 0
    assert main(["users", "revoke-tokens", "alice", "--data", data]) == 0
    assert "1 API token(s) of alice revoked" in capsys.readouterr().out
    conn = open_data_dir(data)
    assert accounts.verify_password(conn, "alice", "another password") is not None
    assert accounts.user_for_token(conn, token) is None
    conn.close()
    assert main(["users", "remove", "alice", "--data", data]) == 0
    conn = open_data_dir(data)
    assert conn.execute("SELECT COUNT(*) FROM clients").fetchone()[0] == 0
    conn.close()
    assert main(["clients", "add", "X", "--clinician", "nobody", "--data", data]) == 2


def test_serve_without_the_extra_fails_with_one_line(tmp_path, capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "uvicorn" else real(name, *a))
    assert main(["serve", "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'pip install "hingecheck[serve]"' in err[0] and "uvicorn" in err[0]


@pytest.mark.parametrize("bad", ["workers = 0", "colour = 'red'", "max_upload_mb = ["])
def test_bad_serve_settings_fail_in_one_line(tmp_path, capsys, bad):
    (tmp_path / "serve.toml").write_text(f"[serve]\n{bad}\n")
    assert main(["serve", "--data", str(tmp_path)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_a_data_folder_that_cannot_be_made_fails_in_one_line(tmp_path, capsys):
    (tmp_path / "taken").write_text("a file where the data folder's parent should be")
    assert main(["serve", "--data", str(tmp_path / "taken" / "data")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot create the data folder" in err[0], err


def test_a_second_server_on_the_same_data_folder_is_refused(tmp_path):
    from hingecheck.serve.config import ServeConfigError, load_config
    from hingecheck.serve.dispatcher import Dispatcher

    first = Dispatcher(load_config(tmp_path))
    with pytest.raises(ServeConfigError, match="another hingecheck serve"):
        Dispatcher(load_config(tmp_path))
    first.stop()
    Dispatcher(load_config(tmp_path)).stop()  # free again
