# Lever ablation on 9x9: seven runs from zero side by side, same wall-clock, then each against the full recipe.
# Ran on one H100 with 16 cores (the numbers in docs/strength.md): bash docs/levers/levers.sh 5.5 530
# $1: minutes of training per run; $2: second of the script at which unfinished arena games are abandoned.
cd "$(dirname "$0")/../.." && export PYTHONUNBUFFERED=1 && mkdir -p runs && rm -rf runs/lev-* runs/levers.sqlite*
MIN=${1:-5.5}
nproc; OUT=${OUT:-runs}
COMMON="selfplay.workers=2 selfplay.random_opening_fraction=0.25 selfplay.random_opening_moves=3 eval.every_checkpoints=0 train.checkpoint_every_seconds=60 train.max_minutes=$MIN"
# Measured before the presets had the KataGo heads: the nets of this table have neither.
COMMON="$COMMON net.value_head=scalar net.opponent_policy=false"
declare -A V
V[base]=""
V[nocap]="selfplay.fast_simulations=160 selfplay.full_search_fraction=1.0"
V[noforced]="search.forced_k=0"
V[nofpu]="search.fpu_reduction=0"
V[nopool]="net.global_pool_every=0"
V[noopen]="selfplay.random_opening_fraction=0"
V[plain]="selfplay.fast_simulations=160 selfplay.full_search_fraction=1.0 search.forced_k=0 search.fpu_reduction=0 net.global_pool_every=0 selfplay.random_opening_fraction=0"
for v in "${!V[@]}"; do
  python3 -m azero train --preset gomoku9 --no-progress --run runs/lev-$v $COMMON ${V[$v]} > runs/lev-$v.log 2>&1 &
done
wait
uptime; for v in "${!V[@]}"; do echo "$v: $(tail -1 runs/lev-$v.log)"; done
final() { ls runs/lev-$1/checkpoints/step-*.safetensors | tail -1; }
A="python3 -m azero arena run --db runs/levers.sqlite --games 40 --no-progress --device cuda --workers 2"
for v in "${!V[@]}"; do
  [ $v = base ] && continue
  $A --candidate az:$(final $v):sims=160 az:$(final base):sims=160 > runs/arena-$v.log 2>&1 &
done
$A --candidate az:$(final base):sims=160 heuristic > runs/arena-base.log 2>&1 &
while [ $SECONDS -lt ${2:-560} ] && pgrep -f "arena run" >/dev/null; do sleep 5; done
pkill -INT -f "arena run"; sleep 4; pkill -9 -f "arena run"
python3 -c "import sqlite3; d=sqlite3.connect('runs/levers.sqlite'); d.execute('PRAGMA wal_checkpoint(TRUNCATE)'); print(d.execute('select count(*) from games').fetchone())"
tar czf $OUT/levers.tgz runs/levers.sqlite runs/lev-*.log runs/arena-*.log $(for v in "${!V[@]}"; do final $v; echo runs/lev-$v/metrics runs/lev-$v/config.toml; done)
ls -la $OUT; for f in runs/arena-*.log; do echo $f; tail -n 3 $f; done
