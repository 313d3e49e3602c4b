"""The typed environment readers fail loudly on a malformed value and read secrets from *_FILE."""

from __future__ import annotations

import pytest

from steward.env import ImproperEnvironment, env_bool, env_choice, env_int, env_list, env_str

NAME = "STEWARD_TEST_SETTING"


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    monkeypatch.delenv(NAME, raising=False)
    monkeypatch.delenv(f"{NAME}_FILE", raising=False)


@pytest.mark.parametrize("raw", ["1", "true", "True", "YES", "on", " true "])
def test_env_bool_reads_true(monkeypatch, raw):
    monkeypatch.setenv(NAME, raw)

    assert env_bool(NAME, False) is True


@pytest.mark.parametrize("raw", ["0", "false", "FALSE", "no", "off"])
def test_env_bool_reads_false(monkeypatch, raw):
    monkeypatch.setenv(NAME, raw)

    assert env_bool(NAME, True) is False


@pytest.mark.parametrize("raw", ["maybe", "2", "yes please", "tru"])
def test_env_bool_refuses_anything_else(monkeypatch, raw):
    monkeypatch.setenv(NAME, raw)

    with pytest.raises(ImproperEnvironment, match=NAME):
        env_bool(NAME, False)


@pytest.mark.parametrize("raw", [None, ""])
def test_env_bool_falls_back_to_the_default_when_unset_or_empty(monkeypatch, raw):
    if raw is not None:
        monkeypatch.setenv(NAME, raw)

    assert env_bool(NAME, True) is True
    assert env_bool(NAME, False) is False


def test_env_int_reads_a_whole_number(monkeypatch):
    monkeypatch.setenv(NAME, "2097152")

    assert env_int(NAME, 5) == 2097152


@pytest.mark.parametrize("raw", ["2MB", "1.5", "ten", "0x10"])
def test_env_int_refuses_what_is_not_a_whole_number(monkeypatch, raw):
    monkeypatch.setenv(NAME, raw)

    with pytest.raises(ImproperEnvironment, match="not a whole number"):
        env_int(NAME, 5)


def test_env_int_refuses_a_value_below_its_minimum(monkeypatch):
    monkeypatch.setenv(NAME, "100")

    with pytest.raises(ImproperEnvironment, match="below the minimum 1024"):
        env_int(NAME, 4096, minimum=1024)


def test_env_int_falls_back_to_the_default(monkeypatch):
    assert env_int(NAME, 42) == 42


def test_env_str_required_and_missing_fails(monkeypatch):
    with pytest.raises(ImproperEnvironment, match=f"{NAME} must be set"):
        env_str(NAME, required=True)


def test_env_str_required_and_empty_fails(monkeypatch):
    monkeypatch.setenv(NAME, "")

    with pytest.raises(ImproperEnvironment, match=f"{NAME} must be set"):
        env_str(NAME, required=True)


def test_a_secret_is_read_from_the_file_named_by_name_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text("s3cret-from-a-docker-secret\n", encoding="utf-8")
    monkeypatch.setenv(f"{NAME}_FILE", str(secret))
    monkeypatch.setenv(NAME, "the-plain-variable-loses")

    assert env_str(NAME, required=True) == "s3cret-from-a-docker-secret"


def test_every_reader_honours_name_file(monkeypatch, tmp_path):
    for raw, read, expected in [
        ("true", lambda: env_bool(NAME, False), True),
        ("8", lambda: env_int(NAME, 1), 8),
        ("a, b", lambda: env_list(NAME, []), ["a", "b"]),
    ]:
        path = tmp_path / "value"
        path.write_text(raw, encoding="utf-8")
        monkeypatch.setenv(f"{NAME}_FILE", str(path))
        assert read() == expected


def test_an_unreadable_name_file_fails_loudly(monkeypatch, tmp_path):
    monkeypatch.setenv(f"{NAME}_FILE", str(tmp_path / "missing"))

    with pytest.raises(ImproperEnvironment, match=f"{NAME}_FILE"):
        env_str(NAME)


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv(NAME, " steward.example.hk, ,api.example.hk ,")

    assert env_list(NAME, ["default"]) == ["steward.example.hk", "api.example.hk"]


def test_env_list_default_is_a_copy(monkeypatch):
    default = ["localhost"]

    value = env_list(NAME, default)
    value.append("mutated")

    assert default == ["localhost"]


def test_env_list_set_but_empty_is_an_empty_list(monkeypatch):
    monkeypatch.setenv(NAME, "")

    assert env_list(NAME, ["localhost"]) == []


def test_env_choice_refuses_an_unknown_choice(monkeypatch):
    monkeypatch.setenv(NAME, "staging")

    with pytest.raises(ImproperEnvironment, match="must be one of"):
        env_choice(NAME, "development", {"development", "production"})


def test_env_choice_reads_a_known_choice(monkeypatch):
    monkeypatch.setenv(NAME, "production")

    assert env_choice(NAME, "development", {"development", "production"}) == "production"
