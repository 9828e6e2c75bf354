"""The ten 7x12 digit bitmaps that fix the 1998 output layer's parameters.

Introduced in chapter 11 (``11_lenet5_1998.ipynb``). The paper's output units
are Euclidean RBF units whose 84 parameters are +1 or -1, drawn as a 7x12
bitmap of each character (Fig. 3 of the paper shows the stylised set it
used). These are drawn for this course in the same spirit: ``#`` is ink
(+1), ``.`` is background (-1). F6 has 84 = 7 x 12 units, read row by row.
"""

from __future__ import annotations

import torch

__all__ = ["DIGIT_BITMAPS", "BITMAP_HEIGHT", "BITMAP_WIDTH", "bitmap_tensor", "rbf_prototypes"]

BITMAP_HEIGHT, BITMAP_WIDTH = 12, 7

DIGIT_BITMAPS: dict[int, tuple[str, ...]] = {
    0: (
        ".......",
        "..###..",
        ".#...#.",
        "#.....#",
        "#.....#",
        "#.....#",
        "#.....#",
        "#.....#",
        "#.....#",
        ".#...#.",
        "..###..",
        ".......",
    ),
    1: (
        ".......",
        "...#...",
        "..##...",
        ".#.#...",
        "...#...",
        "...#...",
        "...#...",
        "...#...",
        "...#...",
        "...#...",
        ".#####.",
        ".......",
    ),
    2: (
        ".......",
        ".####..",
        "#....#.",
        "......#",
        "......#",
        ".....#.",
        "....#..",
        "...#...",
        "..#....",
        ".#.....",
        "#######",
        ".......",
    ),
    3: (
        ".......",
        "#####..",
        ".....#.",
        "......#",
        ".....#.",
        "..###..",
        ".....#.",
        "......#",
        "......#",
        ".....#.",
        "#####..",
        ".......",
    ),
    4: (
        ".......",
        "....##.",
        "...#.#.",
        "..#..#.",
        ".#...#.",
        "#....#.",
        "#######",
        ".....#.",
        ".....#.",
        ".....#.",
        ".....#.",
        ".......",
    ),
    5: (
        ".......",
        "#######",
        "#......",
        "#......",
        "#####..",
        ".....#.",
        "......#",
        "......#",
        "......#",
        ".....#.",
        "#####..",
        ".......",
    ),
    6: (
        ".......",
        "...###.",
        "..#....",
        ".#.....",
        "#......",
        "#.###..",
        "##...#.",
        "#.....#",
        "#.....#",
        ".#...#.",
        "..###..",
        ".......",
    ),
    7: (
        ".......",
        "#######",
        "......#",
        ".....#.",
        ".....#.",
        "....#..",
        "....#..",
        "...#...",
        "...#...",
        "..#....",
        "..#....",
        ".......",
    ),
    8: (
        ".......",
        "..###..",
        ".#...#.",
        "#.....#",
        ".#...#.",
        "..###..",
        ".#...#.",
        "#.....#",
        "#.....#",
        ".#...#.",
        "..###..",
        ".......",
    ),
    9: (
        ".......",
        "..###..",
        ".#...#.",
        "#.....#",
        "#.....#",
        ".#...##",
        "..###.#",
        "......#",
        ".....#.",
        "....#..",
        ".###...",
        ".......",
    ),
}


def bitmap_tensor(digit: int) -> torch.Tensor:
    """The bitmap of ``digit`` as a 12x7 float tensor of +1 (ink) and -1 (background)."""
    if digit not in DIGIT_BITMAPS:
        raise ValueError(f"digit must be one of 0..9, got {digit!r}")
    rows = DIGIT_BITMAPS[digit]
    return torch.tensor([[1.0 if c == "#" else -1.0 for c in row] for row in rows])


def rbf_prototypes() -> torch.Tensor:
    """The (10, 84) matrix of fixed RBF parameters w_ij: row i is digit i's bitmap, flattened row by row."""
    return torch.stack([bitmap_tensor(d).flatten() for d in range(10)])
