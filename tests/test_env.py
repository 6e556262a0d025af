"""The RL environments: PettingZoo's and Gymnasium's own checkers, and what an agent sees and is paid."""

import os
import warnings

import numpy as np
import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # render_mode="human" opens its window off-screen

pytest.importorskip("gymnasium", reason="the RL environments need gymnasium: pip install -e '.[rl]'")
pytest.importorskip("pettingzoo", reason="the AEC environment needs pettingzoo: pip install -e '.[rl]'")

import gymnasium  # noqa: E402
from gymnasium.utils.env_checker import check_env  # noqa: E402

with warnings.catch_warnings():  # pettingzoo.test imports connect_four_v3 the way it deprecates; not our import
    warnings.simplefilter("ignore", DeprecationWarning)
    from pettingzoo.test import api_test, render_test, seed_test  # noqa: E402

from tiny_nets import tiny_checkpoint  # noqa: E402

from azero.env import gomoku_v0, single_agent  # noqa: E402
from azero.model.planes import encode  # noqa: E402
from games import coords  # noqa: E402
from games.gomoku import Gomoku  # noqa: E402

# PettingZoo's api_test keeps a list of its own environments whose observation is a dict; any other
# environment with a dict observation (the classic suite's convention) gets these two notes.
DICT_OBSERVATION_NOTES = ("Observation space for each agent probably should be",
                          "Observation is not a NumPy array")
GAMES = [("freestyle", 7, 5), ("freestyle", 7, 4), ("standard", 7, 5), ("renju", 7, 5),
         ("freestyle", 15, 5), ("standard", 15, 5), ("renju", 15, 5)]


def play(env, moves):
    """Play ``moves`` (notation) through the AEC API, one per turn."""
    size = env.unwrapped.game.size
    for move in moves:
        env.step(coords.from_notation(move, size))


@pytest.mark.parametrize("rule, size, n_in_row", GAMES)
def test_pettingzoo_api_and_seed_tests_pass(rule, size, n_in_row):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        api_test(gomoku_v0.env(size=size, rule=rule, n_in_row=n_in_row), num_cycles=1000)
    unexpected = [str(w.message) for w in caught if not str(w.message).startswith(DICT_OBSERVATION_NOTES)]
    assert unexpected == []
    seed_test(lambda: gomoku_v0.env(size=size, rule=rule, n_in_row=n_in_row), num_cycles=500)


def test_pettingzoo_render_test_passes_for_every_mode():
    render_test(lambda render_mode=None: gomoku_v0.env(size=9, render_mode=render_mode))


def test_rgb_array_is_an_image_of_the_board_and_ansi_the_engines_text():
    env = gomoku_v0.env(size=9, render_mode="rgb_array", render_pixels=300)
    env.reset()
    empty = env.render()
    play(env, ["e5"])
    image = env.render()
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[0] == image.shape[1] and image.shape[2] == 3
    assert image.shape[0] <= 300 and not np.array_equal(image, empty)  # the stone is drawn
    text_env = gomoku_v0.env(size=9, render_mode="ansi")
    text_env.reset()
    play(text_env, ["e5"])
    assert text_env.render() == text_env.unwrapped.game.render()


def test_the_observation_is_the_networks_input_for_the_side_to_move():
    env = gomoku_v0.env(size=9, rule="freestyle")
    env.reset(seed=0)
    play(env, ["e5", "d4", "f6"])
    game = env.unwrapped.game
    assert env.agent_selection == "white_0"
    observation, reward, termination, truncation, info = env.last()
    assert observation["observation"].dtype == np.float32 and observation["observation"].shape == (6, 9, 9)
    np.testing.assert_array_equal(observation["observation"], encode(game.board, 9, game.to_move, game.last_move))
    np.testing.assert_array_equal(observation["action_mask"], game.legal_mask().astype(np.int8))
    assert observation["action_mask"].dtype == np.int8 and observation["action_mask"].sum() == 81 - 3
    waiting = env.observe("black_0")
    assert not waiting["action_mask"].any()  # not black's turn
    np.testing.assert_array_equal(waiting["observation"][0], observation["observation"][1])  # own stones swap
    assert (reward, termination, truncation, info) == (0, False, False, {})


def test_renju_masks_blacks_forbidden_points():
    # Black h8, h9, f10, g10: h10 makes a double three, forbidden to black (tests/test_gomoku.py).
    env = gomoku_v0.env(size=15, rule="renju")
    env.reset()
    play(env, ["h8", "a1", "h9", "a3", "f10", "a5", "g10", "a7"])
    h10 = coords.from_notation("h10", 15)
    observation, *_ = env.last()
    assert env.agent_selection == "black_0"
    assert observation["action_mask"][h10] == 0 and observation["action_mask"][h10 + 1] == 1
    assert observation["observation"][4].reshape(-1)[h10] == 1  # the FORBIDDEN plane marks it too
    env.step(h10)  # a masked move through env(): the wrappers end the game, the mover losing
    assert env.terminations == {"black_0": True, "white_0": True}
    assert env.rewards == {"black_0": -1, "white_0": 0}


def test_raw_env_refuses_an_illegal_move_with_the_engines_reason():
    env = gomoku_v0.raw_env(size=7)
    env.reset()
    env.step(24)
    with pytest.raises(ValueError, match="occupied"):
        env.step(24)


def test_a_row_pays_the_winner_one_and_the_loser_minus_one():
    env = gomoku_v0.env(size=9, n_in_row=4)
    env.reset()
    play(env, ["a1", "a9", "b1", "b9", "c1", "c9", "d1"])
    assert env.unwrapped.game.winner == 1
    assert env.rewards == {"black_0": 1, "white_0": -1}
    assert all(env.terminations.values()) and not any(env.truncations.values())
    for agent in env.agent_iter():
        _, reward, termination, _, _ = env.last()
        assert termination and reward == (1 if agent == "black_0" else -1)
        env.step(None)
    assert env.agents == []


def test_a_full_board_without_a_row_is_a_draw_worth_nothing():
    env = gomoku_v0.env(size=5, n_in_row=5)
    for seed in range(200):  # random games on 5x5 often fill the board without a five
        env.reset(seed=seed)
        for agent in env.agent_iter():
            observation, _, termination, _, _ = env.last()
            if termination:
                break
            env.step(env.action_space(agent).sample(observation["action_mask"]))
        if env.unwrapped.game.winner == 3:
            assert len(env.unwrapped.game.moves) == 25
            assert env.rewards == {"black_0": 0, "white_0": 0} and all(env.terminations.values())
            return
    pytest.fail("no draw in 200 random 5x5 games")


def test_bad_settings_fail_when_the_environment_is_made():
    with pytest.raises(ValueError, match="renju"):
        gomoku_v0.env(size=15, rule="renju", n_in_row=4)
    with pytest.raises(ValueError, match="render_mode"):
        gomoku_v0.env(render_mode="video")


# -- the single-agent Gymnasium environment ----------------------------------------------------


@pytest.mark.parametrize("agent_color", ["black", "white", "random"])
def test_gymnasium_check_env_passes(agent_color):
    env = gymnasium.make(single_agent.ENV_ID, opponent="heuristic", size=7, n_in_row=4, agent_color=agent_color)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped)  # through gymnasium.make, so it also makes one of each render mode
    assert [str(w.message) for w in caught] == []


def test_check_env_passes_with_a_network_opponent(tmp_path):
    net = tiny_checkpoint(tmp_path / "tiny.safetensors", size=7, n_in_row=4)
    check_env(single_agent.GomokuVsPlayer(opponent=f"az:{net}:sims=8", size=7, n_in_row=4, agent_color="white"),
              skip_render_check=True)


def test_a_network_for_another_game_fails_when_the_environment_is_made(tmp_path):
    net = tiny_checkpoint(tmp_path / "tiny.safetensors", size=7, n_in_row=4)
    with pytest.raises(ValueError, match="9x9"):
        single_agent.GomokuVsPlayer(opponent=f"az:{net}", size=9, n_in_row=4)
    with pytest.raises(ValueError, match="person"):
        single_agent.GomokuVsPlayer(opponent="human:ann", size=9)


class ScriptedPlayer:
    """An opponent that plays the given points in order (the first one still empty)."""

    def __init__(self, moves):
        self.moves = moves

    def choose_moves(self, games):
        return [next(m for m in self.moves if games[0].board[m] == 0) for _ in games]

    def close(self):
        pass


def scripted_env(monkeypatch, opponent_moves, **kwargs):
    monkeypatch.setattr(single_agent, "make_player", lambda *args, **kw: ScriptedPlayer(opponent_moves))
    return single_agent.GomokuVsPlayer(opponent="heuristic", size=7, n_in_row=4, **kwargs)


def test_the_agent_is_paid_at_the_end_only(monkeypatch):
    env = scripted_env(monkeypatch, [42, 43, 44, 45, 46])  # the bottom row
    observation, info = env.reset(seed=0)
    assert info == {"agent_color": "black", "opponent_move": None, "illegal_move": False}
    for move in (0, 1, 2):
        observation, reward, terminated, truncated, info = env.step(move)
        assert (reward, terminated, truncated) == (0.0, False, False) and info["opponent_move"] == 42 + move
    observation, reward, terminated, truncated, info = env.step(3)  # a1 b1 c1 d1: four in a row
    assert (reward, terminated, truncated, info["opponent_move"]) == (1.0, True, False, None)
    assert not observation["action_mask"].any()


def test_losing_as_white_costs_one(monkeypatch):
    env = scripted_env(monkeypatch, [0, 1, 2, 3], agent_color="white")
    observation, info = env.reset(seed=0)
    assert info["opponent_move"] == 0 and observation["action_mask"][0] == 0  # black's first stone is there
    assert observation["observation"][1].reshape(-1)[0] == 1  # ... and it is the opponent's
    rewards = [env.step(move)[1] for move in (48, 47, 46)]
    assert rewards == [0.0, 0.0, -1.0] and env.game.winner == 1


def test_an_illegal_action_ends_the_episode_with_the_penalty_and_leaves_the_board(monkeypatch):
    env = scripted_env(monkeypatch, [24], illegal_move_reward=-5.0)
    env.reset(seed=0)
    env.step(0)  # the opponent answers on 24
    _, reward, terminated, truncated, info = env.step(24)
    assert (reward, terminated, truncated, info["illegal_move"]) == (-5.0, True, False, True)
    assert env.game.moves == [0, 24]
    with pytest.raises(RuntimeError, match="reset"):
        env.step(1)


def test_a_seeded_reset_replays_the_same_game_against_a_random_opponent():
    env = single_agent.GomokuVsPlayer(opponent="random", size=7, n_in_row=4)

    def game(seed):
        observation, _ = env.reset(seed=seed)
        env.action_space.seed(seed)
        terminated = False
        while not terminated:
            observation, _, terminated, _, _ = env.step(env.action_space.sample(observation["action_mask"]))
        return list(env.game.moves)

    assert game(3) == game(3)
    assert game(3) != game(4)


def test_the_opponents_moves_are_the_engines_legal_moves_in_renju():
    env = single_agent.GomokuVsPlayer(opponent="heuristic", size=15, rule="renju", agent_color="white")
    observation, info = env.reset(seed=1)
    while True:
        observation, _, terminated, _, info = env.step(env.action_space.sample(observation["action_mask"]))
        if terminated:
            break
    replay = Gomoku.from_moves(env.game.moves, size=15, rule="renju")  # every move was legal, black's included
    assert replay.winner == env.game.winner and not info["illegal_move"]


def test_the_engine_benchmark_measures_the_environment():
    from azero.bench.engine import format_report, pettingzoo_steps_per_second

    assert pettingzoo_steps_per_second(9, "renju", seconds=0.05) > 0
    report = {"size": 9, "freestyle_moves_per_s": 1, "standard_moves_per_s": 1, "renju_moves_per_s": 1,
              "renju_forbidden_masks_per_s": 1, "renju_mask_stones": 20, "renju_forbidden_points_per_position": 0.5,
              "pettingzoo_freestyle_steps_per_s": 12345}
    assert "PettingZoo env, freestyle" in format_report(report)
