"""The players layer: everything that can choose a move, behind one interface.

``protocol`` says what every player offers (``Player``) and the two
capabilities some have (``SearchingPlayer``, ``AnalysingPlayer``), so faces
never probe; ``spec`` reads and writes the player specs people type;
``network`` is the network with search (built in one place, ``net_player``,
for the window, the protocol engine and the arena); ``simple`` the players
without one; ``factory`` builds any of them from a spec; ``heuristic``
scores moves by patterns; ``pbrain_client`` drives an outside Gomocup
engine; ``forfeit`` is how a player loses without a move.  ``net`` is the
old import path, re-exporting them.  Imports the layers below (rules,
model, search).
"""
