"""config.toml: loading with clear errors, and updates that keep the user's other lines."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ime.config import MAX_CONFIG_BYTES, Config, ConfigError, load_config, update_config_file


def test_missing_default_file_gives_the_defaults(tmp_path: Path) -> None:
    assert not (tmp_path / "config" / "delta-pinyin" / "config.toml").exists()  # XDG is tmp
    assert load_config() == Config()
    assert Config().threads == 1


def test_a_missing_file_named_explicitly_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"none\.toml: no such file"):
        load_config(tmp_path / "none.toml")


@pytest.mark.parametrize(
    "text, message",
    [("page_size = 12\n", "page_size"), ("colour = 1\n", "unknown setting"),
     ("page_size = \n", "config.toml"), ('fuzzy = ["x/y"]\n', "fuzzy")],
)  # fmt: skip
def test_bad_files_are_clear_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_update_keeps_comments_and_other_settings(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "config.toml"
    path.parent.mkdir()
    path.write_text('# my settings\npage_size = 7\nlearning = true  # adapt\nfuzzy = ["z/zh"]\n')
    update_config_file({"learning": False, "layout": "vertical"}, path)
    text = path.read_text()
    assert text.startswith("# my settings\npage_size = 7\n")
    assert "learning = false\n" in text and 'layout = "vertical"\n' in text
    cfg = load_config(path)
    assert (cfg.page_size, cfg.learning, cfg.layout) == (7, False, "vertical")
    assert cfg.fuzzy == frozenset({"z/zh"})
    update_config_file({"fuzzy": {"an/ang", "z/zh"}, "chinese_punctuation": False}, path)
    cfg = load_config(path)
    assert cfg.fuzzy == frozenset({"an/ang", "z/zh"}) and not cfg.chinese_punctuation


def test_update_creates_a_private_file(tmp_path: Path) -> None:
    path = update_config_file({"lm": False}, tmp_path / "new" / "config.toml")
    assert load_config(path).lm is False
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700


def test_an_update_that_would_not_load_leaves_the_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("page_size = 4\n")
    with pytest.raises(ConfigError):
        update_config_file({"page_size": 20}, path)
    with pytest.raises(ConfigError, match="unknown"):
        update_config_file({"colour": "red"}, path)
    assert path.read_text() == "page_size = 4\n"
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]  # no temp file left


# ---- the schema (issue 19) ---------------------------------------------------------------------


def _write(tmp_path: Path, line: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f"# my settings\n\n{line}  # mine\nlayout = \"vertical\"\n",
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("line, expected", [
    ('learning = "no"', "true or false"),
    ('lm = "false"', "true or false"),
    ('recording = "false"', "true or false"),
    ("typos = 0", "true or false"),
    ("chinese_punctuation = 1", "true or false"),
    ("page_size = true", "an integer from 1 to 9"),
    ("page_size = 5.0", "an integer from 1 to 9"),
    ("sentence_slots = 1000000", "an integer from 1 to 10"),
    ("sentence_slots = 0", "an integer from 1 to 10"),
    ("threads = 0", "an integer from 1 to 64"),
    ("threads = 65", "an integer from 1 to 64"),
    ('threads = "2"', "an integer from 1 to 64"),
    ("device = 1", 'one of "auto", "cpu", "cuda"'),
    ('device = "gpu"', 'one of "auto", "cpu", "cuda"'),
    ('fuzzy = "z/zh"', "a list of fuzzy pairs"),
    ("fuzzy = [1]", "a list of fuzzy pairs"),
    ('fuzzy = ["z/zh", "x/y"]', "a list of fuzzy pairs"),
], ids=["learning-string", "lm-string", "recording-string", "typos-int", "punctuation-int",
        "page-size-bool", "page-size-float", "slots-huge", "slots-zero", "threads-zero",
        "threads-above", "threads-string", "device-int", "device-unknown", "fuzzy-string",
        "fuzzy-int", "fuzzy-unknown"])
def test_a_value_of_the_wrong_type_or_range_names_file_line_key_and_value(
        tmp_path: Path, line: str, expected: str) -> None:
    path = _write(tmp_path, line)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == f"{path}:3: {line}: expected {_expectation(expected)}"


def _expectation(start: str) -> str:
    from ime.config import SCHEMA

    (full,) = {s.expected for s in SCHEMA.values() if s.expected.startswith(start)}
    return full


def test_every_setting_loads_with_its_own_type(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('page_size = 9\nfuzzy = ["z/zh", "an/ang"]\ntypos = false\n'
                    'learning = false\nlm = false\ndevice = "cpu"\nrecording = true\n'
                    'layout = "vertical"\nsentence_slots = 10\nchinese_punctuation = false\n'
                    'threads = 64\nlm_mode = "rerank"\n', encoding="utf-8")
    assert load_config(path) == Config(
        page_size=9, fuzzy=frozenset({"z/zh", "an/ang"}), typos=False, learning=False,
        lm=False, device="cpu", recording=True, layout="vertical", sentence_slots=10,
        chinese_punctuation=False, threads=64, lm_mode="rerank")


@pytest.mark.parametrize("text, line, needle", [
    ("page_size = 5\nlearnig = false\n", 2, "unknown setting \"learnig\" (did you mean "
                                            "'learning'?)"),
    ("[ui]\nlayout = \"vertical\"\n", 1, "unknown setting \"ui\""),
    ("colour = 1\n", 1, "unknown setting \"colour\" (known: page_size, fuzzy"),
], ids=["misspelt", "table", "unrelated"])
def test_unknown_keys_are_errors_with_their_line(tmp_path: Path, text: str, line: int,
                                                 needle: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value).startswith(f"{path}:{line}: {needle}"), str(err.value)


def test_the_first_problem_is_reported_and_the_others_counted(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('lm = "no"\npage_size = 0\nlearning = "no"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config\.toml:1: lm = \"no\": .* \(and 2 more\)$"):
        load_config(path)


@pytest.mark.parametrize("size", [MAX_CONFIG_BYTES + 1, 50 * 2**20], ids=["just-over", "50MB"])
def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path, size: int) -> None:
    path = tmp_path / "config.toml"
    body = b"learning = false\n"
    with open(path, "wb") as f:  # a valid TOML file of comments, sparse past the first bytes
        f.write(body + b"#" * (min(size, 2 * MAX_CONFIG_BYTES) - len(body) - 1) + b"\n")
        f.truncate(size)
    with pytest.raises(ConfigError, match=rf"{size} bytes; a config file is at most "
                                          rf"{MAX_CONFIG_BYTES} bytes \(64 KiB\)"):
        load_config(path)


def test_a_latin1_file_names_the_encoding_and_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes("page_size = 5\n# réglages\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"config\.toml:2: not UTF-8 text \(byte 0xe9"):
        load_config(path)


@pytest.mark.parametrize("text, needle", [
    ("page_size = " + "9" * 5000 + "\n", "not valid TOML"),
    ("fuzzy = " + "[" * 20000 + "]" * 20000 + "\n", "nested too deeply"),
    ("page_size = \n", "not valid TOML"),
], ids=["huge-integer", "deep-array", "no-value"])
def test_broken_toml_is_a_config_error(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=needle):
        load_config(path)


def test_a_directory_or_fifo_is_refused_not_read(tmp_path: Path) -> None:
    import threading

    with pytest.raises(ConfigError, match="not a config file \\(a directory\\)"):
        load_config(tmp_path)
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    outcome: list[object] = []

    def load() -> None:
        try:
            outcome.append(load_config(fifo))
        except Exception as e:  # reported below
            outcome.append(e)

    t = threading.Thread(target=load, daemon=True)
    t.start()
    t.join(5)
    if t.is_alive():  # blocked opening the pipe: unblock it, then fail
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        t.join(5)
        pytest.fail("load_config blocked on a FIFO")
    assert isinstance(outcome[0], ConfigError) and "a pipe, socket or device" in str(outcome[0])


@pytest.mark.parametrize("change", [
    {"learning": "no"}, {"page_size": True}, {"sentence_slots": 11}, {"threads": 0},
    {"fuzzy": "z/zh"}, {"device": "gpu"},
], ids=["learning", "page-size", "slots", "threads", "fuzzy", "device"])
def test_validate_and_update_check_the_same_schema(tmp_path: Path, change: dict) -> None:
    with pytest.raises(ConfigError, match=f"{next(iter(change))} = .*: expected"):
        Config().with_(**change).validate()
    path = tmp_path / "config.toml"
    path.write_text("# mine\npage_size = 4\n")
    with pytest.raises(ConfigError, match="expected"):
        update_config_file(change, path)
    assert path.read_text() == "# mine\npage_size = 4\n"


def test_the_command_line_prints_one_line_and_exits_2(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    import main
    from lexicon.testing import write_tiny_cache

    path = _write(tmp_path, 'learning = "no"')
    cache = write_tiny_cache(tmp_path / "cache")
    assert main.main(["--config", str(path), "--cache-dir", str(cache), "convert", "nihao"]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {path}:3: learning = \"no\": expected true or false (a TOML " \
                  "boolean, unquoted)\n"


# ---- the system input method's settings (issue 13) ----------------------------------------------


def test_the_ibus_settings_load_update_and_refuse_other_values(tmp_path: Path) -> None:
    assert (Config().candidate_window, Config().focus_out) == ("qt", "commit")
    path = tmp_path / "config.toml"
    path.write_text('candidate_window = "ibus"\nfocus_out = "keep"\n', encoding="utf-8")
    assert (load_config(path).candidate_window, load_config(path).focus_out) == ("ibus", "keep")
    update_config_file({"candidate_window": "qt", "focus_out": "cancel"}, path)
    assert (load_config(path).candidate_window, load_config(path).focus_out) == ("qt", "cancel")
    for line, expected in (('candidate_window = "gtk"', 'one of "qt", "ibus"'),
                           ("focus_out = true", 'one of "commit", "keep", "cancel"')):
        path.write_text(line + "\n", encoding="utf-8")
        with pytest.raises(ConfigError, match=expected):
            load_config(path)
    with pytest.raises(ConfigError):
        Config(candidate_window="tk").validate()
