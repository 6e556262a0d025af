"""The VCT of azero.search.vct written plainly from its definitions with the rule book (tests/reference_rules), recursively.

Slow and obviously right: every question is answered by scanning the whole
board with the reference rules; nothing is cached and nothing is pruned
beyond what the definitions say.
"""

from reference_rules import DIRECTIONS, EMPTY, is_forbidden, is_win

from games.constants import BLACK, WHITE


def empties(rows, size):
    return [(x, y) for y in range(size) for x in range(size) if rows[y][x] == EMPTY]


def legal(rows, size, x, y, color, rule):
    return rows[y][x] == EMPTY and not (rule == "renju" and color == BLACK and is_forbidden(rows, size, x, y))


_WINNING_POINTS = {}  # (position, colour, row, rule) -> points: the same positions come up again and again


def winning_points(rows, size, color, n_in_row, rule):
    key = (tuple(map(tuple, rows)), color, n_in_row, rule)
    if key not in _WINNING_POINTS:
        if len(_WINNING_POINTS) > 200_000:
            _WINNING_POINTS.clear()
        _WINNING_POINTS[key] = _winning_points(rows, size, color, n_in_row, rule)
    return list(_WINNING_POINTS[key])


def _winning_points(rows, size, color, n_in_row, rule):
    points = []
    for x, y in empties(rows, size):
        rows[y][x] = color
        if is_win(rows, size, x, y, color, n_in_row, rule):
            points.append((x, y))
        rows[y][x] = EMPTY
    return points


def is_threat_move(rows, size, x, y, attacker, n_in_row, rule):
    """A legal move after which ``attacker`` has 2+ winning points, or one that renju black may not block."""
    if not legal(rows, size, x, y, attacker, rule):
        return False
    rows[y][x] = attacker
    try:
        if is_win(rows, size, x, y, attacker, n_in_row, rule):
            return True
        wins = winning_points(rows, size, attacker, n_in_row, rule)
        if len(wins) >= 2:
            return True
        return len(wins) == 1 and rule == "renju" and attacker == WHITE and is_forbidden(rows, size, *wins[0])
    finally:
        rows[y][x] = EMPTY


def threat_moves(rows, size, attacker, n_in_row, rule):
    return [(x, y) for x, y in empties(rows, size) if is_threat_move(rows, size, x, y, attacker, n_in_row, rule)]


def line_neighbours(size, x, y, reach):
    for dx, dy in DIRECTIONS:
        for sign in (-1, 1):
            for k in range(1, reach + 1):
                nx, ny = x + sign * k * dx, y + sign * k * dy
                if 0 <= nx < size and 0 <= ny < size:
                    yield nx, ny


def own_stones_in_line(rows, size, x, y, color, n_in_row):
    best = 0
    for dx, dy in DIRECTIONS:
        count = 0
        for sign in (-1, 1):
            for k in range(1, n_in_row):
                nx, ny = x + sign * k * dx, y + sign * k * dy
                if not (0 <= nx < size and 0 <= ny < size) or rows[ny][nx] not in (EMPTY, color):
                    break
                count += rows[ny][nx] == color
        best = max(best, count)
    return best


def is_four(rows, size, x, y, attacker, n_in_row, rule):
    if not legal(rows, size, x, y, attacker, rule):
        return False
    rows[y][x] = attacker
    four = bool(winning_points(rows, size, attacker, n_in_row, rule))
    rows[y][x] = EMPTY
    return four


def is_three(rows, size, x, y, attacker, n_in_row, rule):
    if not legal(rows, size, x, y, attacker, rule) or is_four(rows, size, x, y, attacker, n_in_row, rule):
        return False
    if own_stones_in_line(rows, size, x, y, attacker, n_in_row) < n_in_row - 3:
        return False
    rows[y][x] = attacker
    try:
        return any(rows[my][mx] == EMPTY and is_threat_move(rows, size, mx, my, attacker, n_in_row, rule)
                   for mx, my in line_neighbours(size, x, y, n_in_row - 1))
    finally:
        rows[y][x] = EMPTY


def attacker_wins(rows, size, attacker, n_in_row, rule, depth_left):
    """Attacker to move: does it have a VCT of at most ``depth_left`` moves before its threat move?"""
    return bool(vct_first_moves(rows, size, attacker, n_in_row, rule, depth_left, first_only=True))


def vct_first_moves(rows, size, attacker, n_in_row, rule, depth_left, first_only=False):
    """Every first move that wins (see azero.search.vct's docstring for the definitions)."""
    defender = WHITE if attacker == BLACK else BLACK
    wins = winning_points(rows, size, attacker, n_in_row, rule)
    if wins:
        return wins
    blocks = winning_points(rows, size, defender, n_in_row, rule)
    if len(blocks) >= 2:
        return []
    if not blocks:
        threats = threat_moves(rows, size, attacker, n_in_row, rule)
        if threats:
            return threats
    if depth_left <= 0:
        return []
    if blocks:
        x, y = blocks[0]
        moves = [(x, y)] if legal(rows, size, x, y, attacker, rule) else []
    else:
        moves = [(x, y) for x, y in empties(rows, size)
                 if is_four(rows, size, x, y, attacker, n_in_row, rule)
                 or is_three(rows, size, x, y, attacker, n_in_row, rule)]
    found = []
    for x, y in moves:
        rows[y][x] = attacker
        if defender_loses(rows, size, attacker, n_in_row, rule, depth_left):
            found.append((x, y))
        rows[y][x] = EMPTY
        if found and first_only:
            break
    return found


def defender_loses(rows, size, attacker, n_in_row, rule, depth_left):
    """Defender to move after the attacker's move: does every reply still lose?"""
    defender = WHITE if attacker == BLACK else BLACK
    if winning_points(rows, size, defender, n_in_row, rule):
        return False
    wins = winning_points(rows, size, attacker, n_in_row, rule)
    if len(wins) >= 2:
        return True
    if wins:
        x, y = wins[0]
        if not legal(rows, size, x, y, defender, rule):
            return True
        replies = [(x, y)]
    else:
        threats = threat_moves(rows, size, attacker, n_in_row, rule)
        if not threats:
            return False
        replies = []
        for x, y in empties(rows, size):
            if not legal(rows, size, x, y, defender, rule):
                continue
            rows[y][x] = defender
            stops = all((tx, ty) == (x, y) or not is_threat_move(rows, size, tx, ty, attacker, n_in_row, rule)
                        for tx, ty in threats)
            counter_four = bool(winning_points(rows, size, defender, n_in_row, rule))
            rows[y][x] = EMPTY
            if stops or counter_four:
                replies.append((x, y))
    for x, y in replies:
        rows[y][x] = defender
        lost = attacker_wins(rows, size, attacker, n_in_row, rule, depth_left - 1)
        rows[y][x] = EMPTY
        if not lost:
            return False
    return True
