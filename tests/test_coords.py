import numpy as np
import pytest

from games import coords


def test_centre_of_15x15_is_h8():
    assert coords.to_notation(7 * 15 + 7, 15) == "h8"
    assert coords.from_notation("h8", 15) == 112


def test_rows_count_from_the_bottom_and_columns_from_the_left():
    assert coords.from_notation("a1", 15) == coords.from_xy(0, 14, 15)
    assert coords.from_notation("o15", 15) == coords.from_xy(14, 0, 15)
    assert coords.from_notation("t20", 20) == coords.from_xy(19, 0, 20)


@pytest.mark.parametrize("size", [5, 9, 15, 19, 20])
def test_every_point_round_trips_through_each_form(size):
    for move in range(size * size):
        x, y = coords.to_xy(move, size)
        assert coords.from_xy(x, y, size) == move
        assert coords.from_notation(coords.to_notation(move, size), size) == move
        assert coords.parse_move(coords.to_notation(move, size).upper(), size) == move
        assert coords.parse_move((x, y), size) == move
        assert coords.parse_move(np.int64(move), size) == move


@pytest.mark.parametrize(
    "bad, words",
    [
        ("z9", "malformed"),
        ("h", "malformed"),
        ("h0", "off the"),
        ("h16", "off the"),
        ("p8", "off the"),
        ("", "malformed"),
        ("8h", "malformed"),
        ("h08", "malformed"),
        ("h" + "1" * 5000, "malformed"),
        (225, "off the"),
        (-1, "off the"),
        ((15, 0), "off the"),
        ((0, -1), "off the"),
        ((1, 2, 3), "malformed"),
        (("a", 1), "malformed"),
        (1.5, "malformed"),
        (None, "malformed"),
        (True, "malformed"),
    ],
)
def test_bad_moves_say_what_is_wrong(bad, words):
    with pytest.raises(ValueError, match=words):
        coords.parse_move(bad, 15)


@pytest.mark.parametrize("size", [4, 21, 0, "15", 15.0, True])
def test_bad_sizes_are_refused(size):
    with pytest.raises(ValueError, match="board size"):
        coords.check_size(size)


@pytest.mark.parametrize("size", [5, 15, 20])
def test_record_points_round_trip(size):
    for move in range(size * size):
        assert coords.from_sgf(coords.to_sgf(move, size), size) == move
        assert coords.from_psq(*coords.to_psq(move, size), size) == move
    assert coords.to_sgf(112, 15) == "hh" and coords.to_psq(0, 15) == (1, 1)


@pytest.mark.parametrize("text", ["h", "hhh", "zz", "h1", "HH", ""])
def test_bad_sgf_points(text):
    with pytest.raises(ValueError, match="expected two letters a..o"):
        coords.from_sgf(text, 15)


def test_numpy_integers_are_accepted_where_ints_are():
    assert coords.check_size(np.int64(9)) == 9
    assert coords.parse_move((np.int32(3), np.int64(4)), 9) == 39
