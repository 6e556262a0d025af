"""The old import path of the players layer, kept for the modules not yet moved to the concept modules.

New code imports from where each thing lives:

=================================  ==========================================================
:mod:`azero.players.protocol`      ``Player``, ``SearchingPlayer``, ``AnalysingPlayer``, ``Analysis``
:mod:`azero.players.spec`          ``PlayerSpec``, ``parse_spec``, ``spec_text`` (the one writer),
                                   ``net_spec``, ``with_strength``, ``with_checkpoint``, ``pinned``
:mod:`azero.players.network`       ``NetPlayer``, ``net_player``, ``play_search_config``,
                                   ``trained_search``
:mod:`azero.players.simple`        ``RandomPlayer``, ``HeuristicPlayer``, ``PurePlayer``, ``HumanPlayer``
:mod:`azero.players.factory`       ``make_player``
:mod:`azero.players.forfeit`       ``Forfeit``
=================================  ==========================================================

Nothing is defined here; delete the module once nothing imports it.
"""

from __future__ import annotations

from azero.players.factory import make_player  # noqa: F401
from azero.players.forfeit import Forfeit  # noqa: F401
from azero.players.network import (  # noqa: F401
    BIG_BOARD,
    BIG_BOARD_RADIUS,
    MIN_SIMULATIONS,
    NetPlayer,
    net_player,
    play_search_config,
    root_stats,
)
from azero.players.protocol import Analysis  # noqa: F401
from azero.players.simple import HeuristicPlayer, HumanPlayer, PurePlayer, RandomPlayer  # noqa: F401
from azero.players.spec import (  # noqa: F401
    DEFAULT_SIMULATIONS,
    PLAY_VCT_ROOT_BUDGET,
    SPEC_HELP,
    TIME_MODE_MAX_SIMULATIONS,
    PlayerSpec,
    parse_spec,
    pinned,
    with_checkpoint,
)
