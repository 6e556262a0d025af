# The two KataGo heads on 9x9, measured as Elo per hour: four runs from zero, one after another on the
# same machine for the same minutes, then each final net against the run without either head.
# The numbers in docs/strength.md: bash docs/levers/heads.sh 14 200   (2-core CPU: 4 x 14 min of training, then
# about 20 min of games; they were played as 60 a pairing first, then topped up to 200, which the arena resumes;
# the wdl pairing stopped at 60 when the session ran out)
# $1: minutes of training per run; $2: arena games per pairing.
cd "$(dirname "$0")/../.." && export PYTHONUNBUFFERED=1 && mkdir -p runs
MIN=${1:-14}; GAMES=${2:-200}; AZ=${AZ:-.venv/bin/azero}; DB=${DB:-runs/heads.sqlite}
# As in levers.sh: the gomoku9 preset plus random openings, no gauntlet while training.
COMMON="selfplay.random_opening_fraction=0.25 selfplay.random_opening_moves=3 eval.every_checkpoints=0 train.checkpoint_every_seconds=60 train.max_minutes=$MIN"
# Each head named in every arm: the presets have had both heads on since this measurement.
declare -A V
V[base]="net.value_head=scalar net.opponent_policy=false"
V[wdl]="net.value_head=wdl net.opponent_policy=false"
V[opp]="net.value_head=scalar net.opponent_policy=true"
V[both]="net.value_head=wdl net.opponent_policy=true"
nproc
for v in base wdl opp both; do
  [ -f runs/heads-$v/checkpoints/latest.json ] && grep -q "stopped" runs/heads-$v.log 2>/dev/null && continue
  rm -rf runs/heads-$v
  $AZ train --preset gomoku9 --no-progress --run runs/heads-$v $COMMON ${V[$v]} > runs/heads-$v.log 2>&1
  echo "$v: $(tail -1 runs/heads-$v.log)"
done
final() { ls runs/heads-$1/checkpoints/step-*.safetensors | tail -1; }
A="$AZ arena run --db $DB --games $GAMES --no-progress --device cpu"
$A --candidate az:$(final base):sims=160 heuristic > runs/arena-heads-base.log 2>&1
for v in wdl opp both; do
  $A --candidate az:$(final $v):sims=160 az:$(final base):sims=160 > runs/arena-heads-$v.log 2>&1
done
$AZ arena ratings --db $DB
