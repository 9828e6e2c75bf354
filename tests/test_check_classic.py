"""The chapter 11 checkers: the C3 table by pattern, the RBF penalties and the MAP loss."""

import torch

from lenet_course import check
from lenet_course.paper.network import C3_TABLE
from tests.checker_answers import first_failure, judge


def _pattern(i):
    if i < 6:
        return tuple(sorted((i + k) % 6 for k in range(3)))
    if i < 12:
        return tuple(sorted((i - 6 + k) % 6 for k in range(4)))
    if i < 15:
        return tuple(sorted({i - 12, i - 11, (i - 9) % 6, (i - 8) % 6}))
    return tuple(range(6))


def _naive(y, targets, j):
    correct = y[torch.arange(len(y)), targets]
    return (correct + torch.log(torch.exp(torch.tensor(-j, dtype=y.dtype)) + torch.exp(-y).sum(dim=1))).mean()


def _logaddexp(y, targets, j):
    correct = y.gather(1, targets[:, None])[:, 0]
    return (correct + torch.logaddexp(torch.tensor(-j, dtype=y.dtype), torch.logsumexp(-y, dim=1))).mean()


def _shifted(y, targets, j):
    scores = torch.cat([-y, torch.full((len(y), 1), -float(j), dtype=y.dtype)], dim=1)
    top = scores.max(dim=1, keepdim=True).values
    log_term = top[:, 0] + torch.log(torch.exp(scores - top).sum(dim=1))
    return (y[torch.arange(len(y)), targets] + log_term).mean()


CHECKERS = {"11.1": check.c3_row, "11.2": check.rbf_penalties, "11.3": check.map_loss}

WRONG = {
    "11.1": {
        "no wrap-around": lambda i: tuple(k for k in _pattern(i) if i >= 12 or k >= (i if i < 6 else i - 6)),
        "12-14 as four neighbours": lambda i: (
            tuple(sorted((i - 12 + k) % 6 for k in range(4))) if 12 <= i < 15 else _pattern(i)
        ),
        "starting one map later": lambda i: tuple(sorted((k + 1) % 6 for k in _pattern(i))),
        "not in increasing order": lambda i: tuple((i + k) % 6 for k in range(3)) if i < 6 else _pattern(i),
        "map 15 reads five": lambda i: tuple(range(5)) if i == 15 else _pattern(i),
    },
    "11.2": {
        "a dot product": lambda x, w: x @ w.T,
        "not squared": lambda x, w: torch.cdist(x, w),
        "summed over the wrong axis": lambda x, w: ((x.unsqueeze(1) - w.unsqueeze(0)) ** 2).sum(dim=1),
        "float64 always": lambda x, w: ((x.double().unsqueeze(1) - w.double().unsqueeze(0)) ** 2).sum(dim=2),
    },
    "11.3": {
        "naive log of a sum of exponentials": _naive,
        "no rubbish term": lambda y, t, j: (y[torch.arange(len(y)), t] + torch.logsumexp(-y, dim=1)).mean(),
        "the sum, not the mean": lambda y, t, j: (
            y[torch.arange(len(y)), t] + torch.logaddexp(torch.tensor(-j, dtype=y.dtype), torch.logsumexp(-y, dim=1))
        ).sum(),
        "a Python float": lambda y, t, j: _logaddexp(y, t, j).item(),
        "the score of the target, not its penalty": lambda y, t, j: (
            _logaddexp(y, t, j) - 2 * y[torch.arange(len(y)), t].mean()
        ),
    },
}

RIGHT = {
    "11.1": {
        "looked up in a table typed in": lambda i: [
            (0, 1, 2),
            (1, 2, 3),
            (2, 3, 4),
            (3, 4, 5),
            (0, 4, 5),
            (0, 1, 5),
            (0, 1, 2, 3),
            (1, 2, 3, 4),
            (2, 3, 4, 5),
            (0, 3, 4, 5),
            (0, 1, 4, 5),
            (0, 1, 2, 5),
            (0, 1, 3, 4),
            (1, 2, 4, 5),
            (0, 2, 3, 5),
            (0, 1, 2, 3, 4, 5),
        ][i],
        "the pattern as a list": lambda i: sorted(_pattern(i)),
        "sorted from a set": lambda i: sorted({(i + k) % 6 for k in range(3)}) if i < 6 else list(_pattern(i)),
    },
    "11.2": {
        "squared cdist": lambda x, w: torch.cdist(x, w) ** 2,
        "expanded square": lambda x, w: (x * x).sum(1, keepdim=True) - 2 * x @ w.T + (w * w).sum(1),
    },
    "11.3": {"logaddexp": _logaddexp, "shifted by the largest term by hand": _shifted},
}


def test_the_naive_formula_underflows_where_logsumexp_does_not(capsys):
    verdict, out = judge(check.map_loss, _naive, capsys)
    assert (verdict.passed, verdict.total) == (4, 6)
    assert first_failure(out) == (
        "every penalty above 760 and j = 800 (each exp(-y) is 0 in float64): returned a tensor holding -inf, "
        "expected " + first_failure(out).rsplit("expected ", 1)[1]
    )
    assert "-inf" in out


def test_a_float_loss_is_refused(capsys):
    verdict, out = judge(check.map_loss, WRONG["11.3"]["a Python float"], capsys)
    assert verdict.passed == 0
    assert "returned" in first_failure(out) and "a float, where a tensor is expected" in first_failure(out)


def test_c3_row_wants_increasing_order(capsys):
    verdict, out = judge(check.c3_row, WRONG["11.1"]["not in increasing order"], capsys)
    assert (verdict.passed, verdict.total) == (14, 16)
    assert (
        first_failure(out)
        == "c3_row(4): returned (4, 5, 0), expected [0, 4, 5]: they first differ at index 0 (4 where 0 is expected)"
    )


def test_the_table_is_the_paper_s():
    assert [_pattern(i) for i in range(16)] == [tuple(r) for r in C3_TABLE]
