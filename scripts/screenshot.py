#!/usr/bin/env python3
"""Renders a terminal screen captured with `tmux capture-pane -e -p` (text with SGR colour codes)
as a PNG, for the README's picture of the dashboard. Needs Pillow and the DejaVu Sans Mono font.
Usage: tmux capture-pane -e -p -t PANE | python3 scripts/screenshot.py OUT.png
"""
import re
import sys

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"
BG, FG = (24, 26, 33), (220, 223, 228)
# The 16 colours of a dark terminal theme, 0–7 then their bright forms.
PALETTE = [(40, 42, 54), (235, 97, 97), (125, 209, 120), (229, 192, 100), (97, 159, 235), (199, 120, 221),
           (86, 201, 211), (220, 223, 228), (110, 115, 130), (255, 120, 120), (150, 230, 140), (250, 215, 120),
           (130, 180, 255), (220, 150, 240), (120, 225, 235), (255, 255, 255)]
SGR = re.compile(r"\x1b\[([0-9;]*)m")


def colour256(n):
    if n < 16:
        return PALETTE[n]
    if n < 232:
        n -= 16
        return tuple(0 if v == 0 else 55 + 40 * v for v in (n // 36, (n // 6) % 6, n % 6))
    g = 8 + 10 * (n - 232)
    return (g, g, g)


def cells(line, style):
    """(char, style) for each character of a line, style carried from the lines before."""
    out, at = [], 0
    for m in SGR.finditer(line):
        out += [(c, dict(style)) for c in line[at:m.start()]]
        codes = [int(c) if c else 0 for c in m.group(1).split(";")]
        i = 0
        while i < len(codes):
            c = codes[i]
            if c == 0:
                style.clear()
            elif c == 1:
                style["bold"] = True
            elif c == 22:
                style.pop("bold", None)
            elif c == 7:
                style["reverse"] = True
            elif c == 27:
                style.pop("reverse", None)
            elif 30 <= c <= 37 or 90 <= c <= 97:
                style["fg"] = PALETTE[c - 30 if c < 90 else c - 82]
            elif 40 <= c <= 47 or 100 <= c <= 107:
                style["bg"] = PALETTE[c - 40 if c < 100 else c - 92]
            elif c in (38, 48) and i + 2 < len(codes) and codes[i + 1] == 5:
                style["fg" if c == 38 else "bg"] = colour256(codes[i + 2])
                i += 2
            elif c == 39:
                style.pop("fg", None)
            elif c == 49:
                style.pop("bg", None)
            i += 1
        at = m.end()
    out += [(c, dict(style)) for c in line[at:]]
    return out


def main():
    lines = sys.stdin.read().rstrip("\n").split("\n")
    size = 15
    font, bold = ImageFont.truetype(FONT, size), ImageFont.truetype(BOLD, size)
    w, h = font.getbbox("M")[2], int(size * 1.25)
    style = {}
    grid = [cells(l, style) for l in lines]
    cols = max(len(r) for r in grid)
    pad = 12
    img = Image.new("RGB", (cols * w + 2 * pad, len(grid) * h + 2 * pad), BG)
    draw = ImageDraw.Draw(img)
    for y, row in enumerate(grid):
        for x, (ch, st) in enumerate(row):
            fg, bg = st.get("fg", FG), st.get("bg")
            if st.get("reverse"):
                fg, bg = bg or BG, fg
            left, top = pad + x * w, pad + y * h
            if bg:
                draw.rectangle([left, top, left + w, top + h], fill=bg)
            if ch != " ":
                draw.text((left, top + 1), ch, font=bold if st.get("bold") else font, fill=fg)
    img.save(sys.argv[1])


if __name__ == "__main__":
    main()
