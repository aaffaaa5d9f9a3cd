#!/usr/bin/env python3
"""Check that a PNG screenshot contains enough pixels of given colours (standard library only).

usage: png_colours.py FILE RRGGBB:MIN_PIXELS [...]
Exits 1 naming each colour with too few pixels: a report that failed to render, or rendered without its
status tiles or its chart lines, has none of their colours.
"""
import struct
import sys
import zlib


def read_png(path):
    with open(path, "rb") as fh:
        data = fh.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("%s is not a PNG" % path)
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat.append(chunk)
        pos += 12 + length
    width, height, depth, colour_type, _, _, interlace = header
    if depth != 8 or interlace or colour_type not in (2, 6):
        raise ValueError("unsupported PNG: depth %d, colour type %d, interlace %d" % (depth, colour_type, interlace))
    bpp = 3 if colour_type == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        ftype, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + b) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 0xFF
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 0xFF
        rows.append(line)
        prev = line
    return width, height, bpp, rows


def count_colours(rows, bpp, colours, tolerance=12):
    counts = dict.fromkeys(colours, 0)
    for line in rows:
        for i in range(0, len(line), bpp):
            r, g, b = line[i], line[i + 1], line[i + 2]
            for colour in colours:
                cr, cg, cb = colour
                if abs(r - cr) <= tolerance and abs(g - cg) <= tolerance and abs(b - cb) <= tolerance:
                    counts[colour] += 1
    return counts


def main(argv):
    path, wanted = argv[1], {}
    for spec in argv[2:]:
        hexcode, minimum = spec.split(":")
        wanted[tuple(int(hexcode[i:i + 2], 16) for i in (0, 2, 4))] = (hexcode, int(minimum))
    width, height, bpp, rows = read_png(path)
    counts = count_colours(rows, bpp, list(wanted))
    short = []
    for colour, (hexcode, minimum) in wanted.items():
        print("%s: #%s %d pixels (need %d)" % (path, hexcode, counts[colour], minimum))
        if counts[colour] < minimum:
            short.append("#%s" % hexcode)
    print("%dx%d screenshot" % (width, height))
    if short:
        print("too few pixels of %s: the report did not render its tiles or charts" % ", ".join(short))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
