"""A tiny pure numpy + zlib PNG canvas: the plot fallback when matplotlib is missing (GPU box).

Draws points, polylines and filled bands into an RGB array and writes a valid PNG; no text.

    >>> c = Canvas(40, 30, xlim=(0, 1), ylim=(0, 1)); c.line([0, 1], [0, 1], (255, 0, 0))
    >>> c.to_png_bytes()[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np


class Canvas:
    def __init__(self, width: int, height: int, *, xlim, ylim, margin: int = 30) -> None:
        self.w, self.h, self.m = width, height, margin
        self.img = np.full((height, width, 3), 255, dtype=np.uint8)
        x0, x1 = xlim
        y0, y1 = ylim
        self.xlim = (x0, x1 if x1 > x0 else x0 + 1)
        self.ylim = (y0, y1 if y1 > y0 else y0 + 1)
        # axes box
        m = min(margin, width // 4, height // 4)
        self.m = m
        self.img[m, m : width - m] = 0
        self.img[height - m - 1, m : width - m] = 0
        self.img[m : height - m, m] = 0
        self.img[m : height - m, width - m - 1] = 0

    def _px(self, x, y):
        (x0, x1), (y0, y1), m = self.xlim, self.ylim, self.m
        px = m + (np.asarray(x, float) - x0) / (x1 - x0) * (self.w - 2 * m - 1)
        py = self.h - m - 1 - (np.asarray(y, float) - y0) / (y1 - y0) * (self.h - 2 * m - 1)
        return px, py

    def _put(self, px, py, color, r: int = 0) -> None:
        for dx in range(-r, r + 1):
            for dy in range(-r, r + 1):
                xi = np.clip(np.round(px).astype(int) + dx, 0, self.w - 1)
                yi = np.clip(np.round(py).astype(int) + dy, 0, self.h - 1)
                self.img[yi, xi] = color

    def points(self, x, y, color, r: int = 2) -> None:
        px, py = self._px(x, y)
        self._put(px, py, color, r)

    def line(self, x, y, color) -> None:
        px, py = self._px(x, y)
        for i in range(len(px) - 1):
            n = int(max(abs(px[i + 1] - px[i]), abs(py[i + 1] - py[i]), 1)) * 2
            t = np.linspace(0, 1, n)
            self._put(px[i] + t * (px[i + 1] - px[i]), py[i] + t * (py[i + 1] - py[i]), color)

    def band(self, x, lo, hi, color) -> None:
        px, plo = self._px(x, lo)
        _, phi = self._px(x, hi)
        light = (np.array(color) * 0.25 + 255 * 0.75).astype(np.uint8)
        for i in range(len(px)):
            a, b = sorted((plo[i], phi[i]))
            xi = int(np.clip(round(px[i]), 0, self.w - 1))
            self.img[int(max(a, 0)) : int(min(b, self.h - 1)) + 1, xi] = light

    def to_png_bytes(self) -> bytes:
        raw = b"".join(b"\x00" + row.tobytes() for row in self.img)

        def chunk(tag: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

        ihdr = struct.pack(">IIBBBBB", self.w, self.h, 8, 2, 0, 0, 0)
        return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")

    def save(self, path: Path) -> None:
        Path(path).write_bytes(self.to_png_bytes())
