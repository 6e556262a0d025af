"""The players layer: everything that can choose a move, behind one interface.

``net`` is the network with search (built in one place, ``net_player``,
for the window, the protocol engine and the arena); ``heuristic`` scores
moves by patterns; ``pbrain_client`` drives an outside Gomocup engine;
``forfeit`` is how a player loses without a move.  Imports the layers
below (rules, model, search).
"""
