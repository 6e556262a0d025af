"""The Gomocup engine face: ``azero pbrain`` / ``pbrain-azero`` speaking the Piskvork protocol on stdin/stdout.

One job a module: ``protocol`` reads the manager's untrusted lines (commands,
numbers, coordinates, INFO); ``clock`` turns INFO times into each move's
budget (with :mod:`azero.search.time_manager`); ``memory`` sizes the search
tree to INFO max_memory from the measured process; ``loading`` reads the
checkpoints' headers and builds the players on a background thread;
``engine`` is the state machine answering commands; ``main`` is the process
(options, stdin, stdout; ``python -m azero.pbrain`` runs it);
``one_line_parser`` is the argument parser that fails in one line (the
command line shares it).
"""
