"""The Player protocol and its two capabilities (issue 21): every player class has what it declares, so faces rely
on the protocols instead of probing players with hasattr or reading their signatures."""

import inspect
import sys
import time
import typing

import pytest

from azero.model.evaluator import UniformEvaluator
from azero.players.network import NetPlayer
from azero.players.pbrain_client import PbrainPlayer
from azero.players.protocol import AnalysingPlayer, Analysis, Player, SearchingPlayer
from azero.players.simple import HeuristicPlayer, HumanPlayer, PurePlayer, RandomPlayer
from azero.search.time_manager import MoveBudget
from games.gomoku import Gomoku

ENGINE = f"{sys.executable} -c pass"  # never started: choose_moves is not called on it here


def simple_players() -> list:
    return [RandomPlayer(), HeuristicPlayer(), PurePlayer(20), HumanPlayer("Ann"), PbrainPlayer(ENGINE)]


def players() -> list:
    return simple_players() + [NetPlayer(UniformEvaluator(), 16)]


def protocol_methods(protocol) -> dict[str, inspect.Signature]:
    """The methods a protocol declares (its own and inherited), each as written in the protocol."""
    methods = {}
    for klass in reversed(protocol.__mro__):
        if klass in (object, typing.Protocol, typing.Generic):
            continue
        methods.update({name: inspect.signature(value) for name, value in vars(klass).items()
                        if inspect.isfunction(value) and not name.startswith("_")})
    return methods


def accepts_as_declared(method, declared: inspect.Signature) -> str | None:
    """Why ``method`` cannot be called as ``declared`` says (every parameter by its name, the optional ones left
    out), or None when it can."""
    have = inspect.signature(method).parameters
    for name, parameter in list(declared.parameters.items())[1:]:  # past self
        if name not in have:
            return f"no parameter {name}"
        if (parameter.default is inspect.Parameter.empty) != (have[name].default is inspect.Parameter.empty):
            return f"{name} is {'optional' if have[name].default is not inspect.Parameter.empty else 'required'}"
    extra = [n for n, p in have.items() if n != "self" and n not in declared.parameters
             and p.default is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    return f"it needs {extra}, which the protocol does not pass" if extra else None


@pytest.mark.parametrize("player", players(), ids=lambda p: type(p).__name__)
def test_every_player_is_a_player_with_the_declared_methods(player):
    assert isinstance(player, Player)
    assert isinstance(player.name, str) and player.name
    for name, declared in protocol_methods(Player).items():
        assert accepts_as_declared(getattr(player, name), declared) is None, (type(player).__name__, name)
    player.close()


@pytest.mark.parametrize("player", simple_players(), ids=lambda p: type(p).__name__)
def test_players_without_a_search_do_not_claim_one(player):
    assert not isinstance(player, SearchingPlayer) and not isinstance(player, AnalysingPlayer)


def test_the_network_has_both_capabilities_with_the_declared_signatures():
    player = NetPlayer(UniformEvaluator(), 16)
    for protocol in (Player, SearchingPlayer, AnalysingPlayer):
        assert isinstance(player, protocol)
        for name, declared in protocol_methods(protocol).items():
            assert accepts_as_declared(getattr(player, name), declared) is None, (protocol.__name__, name)


def test_a_searching_player_takes_a_move_budget_and_says_what_its_search_did():
    player: SearchingPlayer = NetPlayer(UniformEvaluator(), 5000)
    games = [Gomoku.from_moves([24, 25], 7, "freestyle", 4), Gomoku.from_moves([10], 7, "freestyle", 4)]
    player.choose_moves(games, seconds=0.01)  # the search's kernels compile on a first call: not timed
    started = time.perf_counter()
    moves = player.choose_moves(games, budget=MoveBudget(0.05, 0.1))
    assert time.perf_counter() - started < 5
    assert all(games[i].is_legal(m) for i, m in enumerate(moves))
    assert len(player.last_simulations) == len(player.last_values) == len(player.last_stop_reasons) == 2
    assert all(s >= 1 for s in player.last_simulations) and all(-1 <= v <= 1 for v in player.last_values)
    player.choose_moves(games[:1])  # no budget: its simulations, and no clock to stop it
    assert player.last_simulations == [5000] and player.last_stop_reasons == []
    player.simulations = 40  # a face may lower it (the protocol engine, to fit its memory)
    player.choose_moves(games[1:])
    assert player.last_simulations[0] >= 40 and player.search_config.move_radius == 0


def test_an_analysing_player_shows_its_search_and_stops_when_asked():
    player: AnalysingPlayer = NetPlayer(UniformEvaluator(), 200)
    game = Gomoku.from_moves([24], 7, "freestyle", 4)
    seen: list[Analysis] = []
    analysis = player.analyse(game, visits=300, progress=seen.append)
    assert isinstance(analysis, Analysis) and analysis.simulations >= 300 and analysis.line[0] == analysis.move
    player.tree_simulations = 5000
    asked = []
    player.should_stop = lambda: asked.append(1) or len(asked) > 3  # between steps: a few steps, then stop
    stopped = player.analyse(Gomoku.from_moves([24, 10], 7, "freestyle", 4), visits=5000)
    assert stopped.simulations < 5000


def test_the_window_asks_a_player_without_a_search_for_a_move_and_closes_it():
    from azero.play.thinker import Thinker

    class Counted(RandomPlayer):
        closed = 0

        def close(self) -> None:
            Counted.closed += 1

    thinker = Thinker(lambda spec: Counted())
    try:
        thinker.ask(Gomoku(7, "freestyle", 4), "random")
        deadline = time.monotonic() + 30
        answers = []
        while not answers and time.monotonic() < deadline:
            answers = thinker.poll()
            time.sleep(0.01)
        assert answers and answers[0].kind == "move" and answers[0].analysis is None and thinker.error is None
    finally:
        thinker.close()
    assert Counted.closed == 1
