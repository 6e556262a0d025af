"""Issue 18: the VCT side's losing moves, two plies before the opponent's unstoppable VCT.

For each lost game of docs/vct/vct-vs-vcf.sqlite whose first "opponent holds a VCT" position had no refutation,
take the position two plies earlier (the VCT side to move) and ask each player spec for a move there. Then the
opponent (gomoku15 at 800 simulations, VCF only: the arena's opponent) answers, and we check with the solver
whether the side then has any move that leaves the opponent without a VCT (20000 nodes, depth 6).

    python docs/vct/losing_moves.py "az:NET:sims=800:vct=0" "az:NET:sims=800:leafvct=1000"   # NET: gomoku15
"""
import sqlite3, sys, time
from pathlib import Path
import torch
torch.set_num_threads(1)
import numpy as np
from games.gomoku import Gomoku
from games import coords
from games.renju import new_three_stack
from azero.search import vct
from azero.players.factory import make_player

DB = str(Path(__file__).with_name("vct-vs-vcf.sqlite"))
NET = str(Path(__file__).parents[2] / "checkpoints" / "gomoku15.safetensors")
LOST = {3: 13, 4: 19, 6: 23, 8: 22, 9: 35, 10: 30, 11: 37}  # game id -> ply of the first unrefuted VCT (docs/strength.md)
frames, stack = new_three_stack()

def has_vct(board, attacker):
    return vct.find_vct_with(vct.new_state(15), board.copy(), 15, attacker, 5, 0, 6, 20000, frames, stack) != vct.NO_VCT

def refutable(g, side):
    """Side to move in g; the opponent holds a VCT: does some move take it away? (None: no VCT to refute.)"""
    if not has_vct(g.board, 3 - side):
        return None
    for q in np.flatnonzero(g.legal_mask()):
        b = g.board.copy(); b[q] = side
        if not has_vct(b, 3 - side):
            return True
    return False

specs = sys.argv[1:]
opponent = make_player(f"az:{NET}:sims=800:vct=0")
rows = {gid: (moves,) for gid, moves in sqlite3.connect(DB).execute("select id, moves from games")}
for gid, ply in LOST.items():
    ms = [coords.parse_move(t, 15) for t in rows[gid][0].split()]
    g = Gomoku.from_moves(ms[:ply - 2], 15, "freestyle", 5)
    side = g.to_move
    line = f"game {gid} ply {ply - 2}: played {coords.to_notation(ms[ply - 2], 15)}"
    for spec in specs:
        player = make_player(spec.replace("NET", NET))
        t = time.perf_counter()
        m = int(player.choose_moves([g])[0])
        spent = time.perf_counter() - t
        player.close()
        after = g.copy(); after.play(m)
        reply = int(opponent.choose_moves([after])[0]); opponent.close()
        after.play(reply)
        verdict = refutable(after, side)
        word = {None: "no VCT against it", True: "refutable", False: "LOST"}[verdict]
        line += f" | {spec.split(':', 2)[-1]}: {coords.to_notation(m, 15)} ({spent:.1f}s), reply {coords.to_notation(reply, 15)}: {word}"
    print(line, flush=True)
