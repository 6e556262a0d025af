"""PSQ and SGF: round trips, and one clear error for each kind of bad file."""

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from games.gomoku import Gomoku
from games.randomplay import play_random_nearby
from games.records import GameRecord, RecordError, load_record, read_psq, read_sgf, save_record, write_psq, write_sgf


def random_record(size, rule, seed, max_moves=None):
    game = play_random_nearby(Gomoku(size=size, rule=rule), np.random.default_rng(seed), max_moves=max_moves)
    return GameRecord.from_game(game, black="Alice [1]", white="Bob \\ 2")


@settings(max_examples=150)
@given(size=st.integers(5, 20), rule=st.sampled_from(["freestyle", "standard", "renju"]), seed=st.integers(0, 10**9))
def test_sgf_round_trip(size, rule, seed):
    record = random_record(size, rule, seed)
    assert read_sgf(write_sgf(record)) == record


@settings(max_examples=150)
@given(size=st.integers(5, 20), rule=st.sampled_from(["freestyle", "standard", "renju"]), seed=st.integers(0, 10**9))
def test_psq_round_trip(size, rule, seed):
    record = random_record(size, rule, seed)
    back = read_psq(write_psq(record), rule=rule)
    assert (back.size, back.rule, back.moves) == (record.size, record.rule, record.moves)


def test_sgf_keeps_rule_players_result_and_row_length():
    record = GameRecord.from_game(Gomoku.from_moves(["a1", "a2", "b1", "b2", "c1", "c2", "d1"], size=9, n_in_row=4))
    record.black, record.white = "me", "azero"
    text = write_sgf(record)
    assert "GM[4]" in text and "SZ[9]" in text and "RE[B+]" in text and "NR[4]" in text and "PB[me]" in text
    assert text.count(";B[") == 4 and ";B[ai]" in text  # a1 on 9x9: column a, the bottom row
    assert read_sgf(text) == record


def test_psq_coordinates_are_one_based_x_then_y():
    record = GameRecord.from_game(Gomoku.from_moves(["a15", "o1"]))
    assert write_psq(record).splitlines() == ["Piskvorky 15x15, 11:11, 0", "1,1,0", "15,15,0"]


def test_psq_from_piskvork_with_trailing_engine_lines():
    text = "Piskvorky 20x20, 11:11, 0\n10,10,1000\n11,11,234\n10,11,0\npbrain-one.exe\npbrain-two.exe\n-1\n"
    record = read_psq(text)
    assert record.size == 20 and record.moves == [9 * 20 + 9, 10 * 20 + 10, 10 * 20 + 9]


def test_sgf_reads_the_main_line_of_variations():
    record = read_sgf("(;GM[4]SZ[15];B[hh];W[hi](;B[ii];W[jj])(;B[aa]))")
    assert record.moves == [7 * 15 + 7, 8 * 15 + 7, 8 * 15 + 8, 9 * 15 + 9]


def test_sgf_escaped_brackets_in_names():
    record = read_sgf("(;GM[4]SZ[15]PB[a\\]b]C[comment with ( and ;];B[hh])")
    assert record.black == "a]b" and record.moves == [112]


def test_sgf_soft_line_breaks_vanish():
    assert read_sgf("(;GM[4]SZ[15]PB[Ali\\\nce]PW[Bo\\\r\nb];B[hh])").black == "Alice"
    assert read_sgf("(;GM[4]SZ[15]PW[Bo\\\r\nb];B[hh])").white == "Bob"


def test_player_names_lose_control_characters():
    record = read_sgf("(;GM[4]SZ[15]PB[\x1b[31mRED\x07]PW[" + "w" * 500 + "];B[hh])")
    assert record.black == "[31mRED" and len(record.white) == 100


def test_a_byte_order_mark_is_skipped(tmp_path):
    (tmp_path / "bom.sgf").write_bytes(b"\xef\xbb\xbf(;GM[4]SZ[15];B[hh])")
    (tmp_path / "bom.psq").write_bytes(b"\xef\xbb\xbfPiskvorky 15x15, 11:11, 0\n8,8,0\n")
    assert load_record(tmp_path / "bom.sgf").moves == load_record(tmp_path / "bom.psq").moves == [112]


def test_hostile_text_in_errors_is_escaped_and_cut_short():
    for text in ["(;GM[4]SZ[15];B[h\nAlso: a fake line])", "(;GM[4]SZ[15];B[" + "x" * 10**6 + "])"]:
        with pytest.raises(RecordError) as error:
            read_sgf(text)
        assert "\n" not in str(error.value) and len(str(error.value)) < 200
    with pytest.raises(RecordError) as error:
        read_psq("Piskvorky 15x15\n8,8,\x1b[2J\n")
    assert "\x1b" not in str(error.value) and "\\x1b" in str(error.value)


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "line 1: the file is empty"),
        ("hello\n8,8,0\n", "line 1: expected a header"),
        ("Piskvorky 15x10, 11:11, 0\n", "only square boards"),
        ("Piskvorky 25x25, 11:11, 0\n", "line 1: board size"),
        ("Piskvorky 15x15, 11:11, 0\n8,8,0\n8,x,0\n", "line 3: malformed move"),
        ("Piskvorky 15x15, 11:11, 0\n8,8,0\n8,8,0\n", "line 3: point h8 is occupied"),
        ("Piskvorky 15x15, 11:11, 0\n8,8,0\n16,1,0\n", "line 3: point 16,1 is off the 15x15 board"),
        ("Piskvorky 15x15, 11:11, 0\n0,1,0\n", "line 2: point 0,1 is off"),
        ("Piskvorky 15x15\n" + "1" * 5000 + ",1,0\n", "line 2: malformed move"),
        ("Piskvorky " + "1" * 5000 + "x15\n", "line 1: expected a header"),
    ],
)
def test_bad_psq_names_the_line(text, words):
    with pytest.raises(RecordError, match=words):
        read_psq(text)


def test_psq_game_continuing_after_a_win_is_refused():
    lines = ["Piskvorky 15x15, 11:11, 0"] + [f"{x},1,0\n{x},3,0" for x in range(1, 6)] + ["9,9,0"]
    with pytest.raises(RecordError, match="line 11: the game is over"):
        read_psq("\n".join(lines))


def test_psq_forbidden_move_is_refused_under_renju():
    # black h8 h9 f10 g10 then h10 (a double-three)
    moves = [(8, 8), (1, 15), (8, 7), (1, 13), (6, 6), (1, 11), (7, 6), (1, 9), (8, 6)]
    text = "Piskvorky 15x15, 11:11, 0\n" + "\n".join(f"{x},{y},0" for x, y in moves)
    assert len(read_psq(text).moves) == 9  # fine in freestyle
    with pytest.raises(RecordError, match="line 10: point h10 is forbidden"):
        read_psq(text, rule="renju")


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "expected '\\('"),
        ("(;GM[4]SZ[15];B[hh]", "expected '\\)'"),
        ("(;GM[1]SZ[19];B[dd])", "GM\\[1\\]: this is not a Gomoku record"),
        ("(;GM[4]SZ[15:13])", "only square boards"),
        ("(;GM[4]SZ[abc])", "SZ\\[abc\\]: expected a whole number"),
        ("(;GM[4]SZ[" + "9" * 5000 + "])", "expected a whole number"),
        ("(;GM[4]NR[five])", "NR\\[five\\]: expected a whole number"),
        ("(;GM[4]SZ[30])", "board size"),
        ("(;GM[4]RU[go])", "unknown rule"),
        ("(;GM[4]SZ[15];B[hh];B[ii])", "B\\[ii\\] \\(move 2\\): it is white's turn"),
        ("(;GM[4]SZ[15];W[hh])", "it is black's turn"),
        ("(;GM[4]SZ[15];B[hh];W[hh])", "W\\[hh\\] \\(move 2\\): point h8 is occupied"),
        ("(;GM[4]SZ[15];B[zz])", "expected two letters"),
        ("(;GM[4]SZ[15];B[])", "expected two letters"),
        ("(;GM[4]SZ[15];B[pa])", "off the 15x15 board"),
        ("(;GM[4]SZ[15]AB[hh][ii])", "setup stones"),
        ("(;GM[4]SZ[15];B[hh][ii])", "a move has one point"),
        ("(;GM[4]SZ[15];B[hh]W[ii])", "one move"),
        ("(;GM[4]SZ[15];B[hh", "never closed"),
        ("(;GM[4]SZ[15];b[hh])", "upper-case"),
        ("(;GM[4]SZ[15];B)", "has no value"),
        ("(;GM[4]SZ[15]SZ[15])", "appears twice"),
        ("(;GM[4]SZ[15]B[hh])", "root node"),
        ("(;GM[4]" + "(;C[deeper]" * 5000 + ")" * 5001, "nested too deeply"),
    ],
)
def test_bad_sgf_names_the_property_or_place(text, words):
    with pytest.raises(RecordError, match=words):
        read_sgf(text)


def test_save_and_load_by_suffix(tmp_path):
    record = random_record(15, "renju", 3)
    for name in ["game.sgf", "game.psq", "GAME.SGF"]:
        save_record(record, tmp_path / name)
        loaded = load_record(tmp_path / name, rule="renju")
        assert loaded.moves == record.moves and loaded.rule == "renju"
    assert sorted(os.listdir(tmp_path)) == ["GAME.SGF", "game.psq", "game.sgf"]  # no temp files left behind


def test_rule_mistakes_are_the_callers_not_the_files():
    with pytest.raises(ValueError, match="renju is defined for five") as error:
        read_psq("Piskvorky 15x15, 11:11, 0\n", rule="renju", n_in_row=4)
    assert "PSQ" not in str(error.value)


def test_saving_keeps_the_permissions_of_the_file_it_replaces(tmp_path):
    path = tmp_path / "game.sgf"
    save_record(random_record(9, "freestyle", 1), path)
    os.chmod(path, 0o640)
    save_record(random_record(9, "freestyle", 2), path)
    assert os.stat(path).st_mode & 0o777 == 0o640
    fresh = tmp_path / "fresh.sgf"
    save_record(random_record(9, "freestyle", 3), fresh)
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(fresh).st_mode & 0o777 == 0o666 & ~umask


def test_a_save_into_a_missing_folder_names_the_target(tmp_path):
    with pytest.raises(OSError, match="cannot write .*missing.*game.sgf: No such file"):
        save_record(random_record(9, "freestyle", 1), tmp_path / "missing" / "game.sgf")


def test_file_errors_are_record_errors(tmp_path):
    with pytest.raises(RecordError, match="unknown record type '.txt'"):
        save_record(GameRecord(), tmp_path / "game.txt")
    with pytest.raises(RecordError, match="cannot read it"):
        load_record(tmp_path / "missing.sgf")
    (tmp_path / "binary.psq").write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(RecordError, match="not a text file"):
        load_record(tmp_path / "binary.psq")
    (tmp_path / "bad.sgf").write_text("(;GM[4];B[zz])")
    with pytest.raises(RecordError, match="bad.sgf: SGF property B\\[zz\\]"):
        load_record(tmp_path / "bad.sgf")


def test_a_failed_save_leaves_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "game.sgf"
    save_record(random_record(15, "freestyle", 1), path)
    before = path.read_text()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        save_record(random_record(15, "freestyle", 2), path)
    assert path.read_text() == before
    assert os.listdir(tmp_path) == ["game.sgf"]


@settings(max_examples=300)
@given(text=st.text(alphabet=st.sampled_from(list("(;)[]\\ABGMPSWZRUNX0123456789abhz:,\n x")), max_size=80))
def test_sgf_reader_fuzz_raises_only_record_errors(text):
    try:
        read_sgf(text)
    except RecordError:
        pass


@settings(max_examples=300)
@given(seed=st.integers(0, 10**9), cut=st.integers(0, 400), junk=st.text(max_size=5))
def test_mutated_records_raise_only_record_errors(seed, cut, junk):
    record = random_record(9, "renju", seed, max_moves=20)
    for text, reader in [(write_sgf(record), read_sgf), (write_psq(record), read_psq)]:
        broken = text[:cut] + junk + text[cut + len(junk) :]
        try:
            reader(broken)
        except RecordError:
            pass
