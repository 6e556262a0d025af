"""Player specs (issue 21): one writer (spec_text) for every spec azero builds, and parse_spec reads back what it wrote."""

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from azero.players.spec import (
    DEFAULT_SIMULATIONS,
    KINDS,
    TIME_MODE_MAX_SIMULATIONS,
    PlayerSpec,
    net_spec,
    parse_spec,
    pinned,
    spec_text,
    strength_given,
    with_checkpoint,
    with_strength,
)

# Paths with colons, dots, slashes and inner spaces, but no '=' (a path ending in ':sims=3' is an option, by design).
PATHS = st.from_regex(r"[A-Za-z0-9_./\\-]([A-Za-z0-9_./\\: -]{0,30}[A-Za-z0-9_./\\-])?", fullmatch=True)
SECONDS = st.floats(min_value=0, max_value=3600, exclude_min=True, allow_nan=False)
WORDS = st.text(st.characters(min_codepoint=33, max_codepoint=0x2FF, blacklist_categories=("C", "Z")), min_size=1,
                max_size=40)


@st.composite
def net_specs(draw) -> PlayerSpec:
    vct = draw(st.none() | st.integers(0, 10**7))
    on = vct != 0  # defence, leaf and reply VCT need the root's
    return PlayerSpec("az", path=draw(PATHS), simulations=draw(st.integers(1, 10**6)),
                      seconds=draw(st.none() | SECONDS), vct=vct, defence=on and draw(st.booleans()),
                      leaf_vct=draw(st.integers(0, 10**6)) if on else 0,
                      reply_vct=draw(st.integers(0, 10**6)) if on else 0)


SPECS = st.one_of(
    st.sampled_from([PlayerSpec("random"), PlayerSpec("heuristic")]),
    st.builds(lambda n: PlayerSpec("pure", simulations=n), st.integers(1, 10**9)),
    net_specs(),
    st.builds(lambda words: PlayerSpec("pbrain", command=" ".join(words)), st.lists(WORDS, min_size=1, max_size=4)),
    st.builds(lambda name: PlayerSpec("human", name=name), WORDS),
)


@given(SPECS)
def test_every_spec_reads_back_as_written(spec):
    text = spec_text(spec)
    assert parse_spec(text) == spec
    assert spec.text == text and parse_spec(text).text == text  # one spelling: writing what was read changes nothing


@given(net_specs())
def test_a_network_spec_keeps_each_option_through_the_writer(spec):
    for change in ({"simulations": 77}, {"seconds": 0.1 + 1e-9}, {"seconds": None}, {"vct": 0, "defence": False,
                   "leaf_vct": 0, "reply_vct": 0}, {"vct": 5, "defence": True}, {"leaf_vct": 3, "vct": None},
                   {"reply_vct": 4, "vct": 9}):
        changed = dataclasses.replace(spec, **change)
        assert parse_spec(changed.text) == changed


def test_the_writer_spells_a_spec_one_way():
    assert parse_spec("az:x:time=2:sims=5").text == "az:x:sims=5:time=2"
    assert parse_spec(" az:x:sims=400 ").text == "az:x"  # a default is left out
    assert parse_spec("az:x:time=2").text == "az:x:time=2" and parse_spec("az:x:time=2").simulations == \
        TIME_MODE_MAX_SIMULATIONS
    assert parse_spec("az:x:defence=0:vct=20000").text == "az:x:vct=20000"
    assert parse_spec("az:x:defence=1:leafvct=3:replyvct=2:vct=9:time=0.5:sims=8").text == \
        "az:x:sims=8:time=0.5:vct=9:replyvct=2:leafvct=3:defence=1"
    assert parse_spec("az:a:b.safetensors:sims=3").path == "a:b.safetensors"
    assert [parse_spec(t).text for t in ("random", "heuristic", "pure:50", "pbrain:e --x 1", "human:Ann Lee")] == \
        ["random", "heuristic", "pure:50", "pbrain:e --x 1", "human:Ann Lee"]
    assert net_spec("n.safetensors").simulations == DEFAULT_SIMULATIONS
    assert net_spec("n.safetensors", seconds=3).text == "az:n.safetensors:time=3"
    assert set(KINDS) == {"random", "heuristic", "pure", "az", "pbrain", "human"}


def test_the_writer_refuses_what_would_read_back_as_something_else():
    with pytest.raises(ValueError, match="ending like an option"):
        spec_text(PlayerSpec("az", path="x:sims=3", simulations=5))
    with pytest.raises(ValueError, match="unknown player kind"):
        spec_text(PlayerSpec("chess"))


def test_a_strength_is_written_by_the_one_writer():
    assert with_strength("az:n.safetensors", 200) == "az:n.safetensors:sims=200"
    assert with_strength("az:n.safetensors:sims=9:vct=0", 20000, 5.0) == "az:n.safetensors:time=5:vct=0"
    assert with_strength("heuristic", 800) == "heuristic"  # not a network: no strength to set
    assert strength_given("az:x:sims=400") and strength_given("az:x:time=1") and not strength_given("az:x:vct=3")
    assert not strength_given("pure:3") and not strength_given("az:dir:sims=3/net")


def test_a_pinned_spec_keeps_its_options(tmp_path):
    from tiny_nets import tiny_checkpoint

    from azero.train.run_folder import RunFolder

    folder = RunFolder(tmp_path / "run")
    tiny_checkpoint(folder.checkpoint(5), step=5)
    folder.publish(5)
    spec = f"az:{folder.root}:leafvct=7:time=1.5"
    assert pinned(spec) == f"az:{folder.checkpoint(5)}:time=1.5:leafvct=7"
    assert parse_spec(pinned(spec)) == dataclasses.replace(parse_spec(spec), path=str(folder.checkpoint(5)))
    assert with_checkpoint(parse_spec(spec), "/else/where.safetensors") == "az:/else/where.safetensors:time=1.5:leafvct=7"
    assert pinned("pure:0010") == "pure:10"


def test_players_are_named_by_the_writer():
    from azero.players.factory import make_player
    from azero.players.pbrain_client import PbrainPlayer

    for text in ("random", "heuristic", "pure:30", "human:Ann"):
        assert make_player(text).name == text
    assert PbrainPlayer("engine --fast").name == "pbrain:engine --fast"
