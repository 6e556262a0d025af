"""From a spec to a player: :func:`make_player`, the one place every kind of player is built."""

from __future__ import annotations

from azero.players.protocol import Player
from azero.players.simple import HeuristicPlayer, HumanPlayer, PurePlayer, RandomPlayer
from azero.players.spec import PlayerSpec, parse_spec


def make_player(spec: str | PlayerSpec, seed: int = 0, device: str = "cpu", turn_ms: int = 1000,
                game: tuple[str, int, int] | None = None) -> Player:
    """Build the player a spec names.

    ``game`` = (rule, size, n_in_row) makes an ``az:`` checkpoint prove it
    was trained for that game (a clear CheckpointError otherwise); an
    ``az:NET.onnx`` export runs on the CPU through onnxruntime, whatever ``device`` says;
    ``turn_ms`` is the time per move given to ``pbrain:`` engines.
    A network is built by :func:`azero.players.network.net_player`, as the
    protocol engine builds its own.
    """
    parsed = spec if isinstance(spec, PlayerSpec) else parse_spec(spec)
    if parsed.kind == "random":
        return RandomPlayer(seed)
    if parsed.kind == "heuristic":
        return HeuristicPlayer(seed)
    if parsed.kind == "pure":
        return PurePlayer(parsed.simulations, seed=seed)
    if parsed.kind == "az":
        from azero.players.network import net_player

        return net_player(parsed.path, parsed.simulations, parsed.seconds, parsed.vct, parsed.defence, parsed.leaf_vct,
                          parsed.reply_vct, device=device, game=game, name=parsed.text, seed=seed)
    if parsed.kind == "pbrain":
        from azero.players.pbrain_client import PbrainPlayer

        return PbrainPlayer(parsed.command, turn_ms=turn_ms)
    return HumanPlayer(parsed.name)
