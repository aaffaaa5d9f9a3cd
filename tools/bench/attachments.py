#!/usr/bin/env python3
"""Generate bench attachment files: tools/bench/restore.yml's file restore (make bench; docs/performance.md).

    attachments.py DIR --bytes 536870912 [--seed huaian-bench]

Writes files of the sizes an attachment store holds (office documents of 64 KiB and 512 KiB, scanned
PDF/OFD of 2 and 8 MiB, in turn) until their total reaches --bytes. The content is pseudo-random
(incompressible, as compressed documents are) and the same for the same seed and name, so a repository
that saw a previous run's files deduplicates them. Prints {"files": N, "bytes": total} as JSON. Runs on the
targets' system Python (3.7): standard library only.
"""
import argparse
import json
import os
import random
import sys

SIZES = (64 * 1024, 512 * 1024, 2 * 1024 ** 2, 8 * 1024 ** 2)


def plan(total_bytes):
    """[(name, size)] in turn over SIZES until the sizes add up to at least total_bytes."""
    out, done, i = [], 0, 0
    while done < total_bytes:
        size = SIZES[i % len(SIZES)]
        out.append(("doc-%05d.bin" % i, size))
        done += size
        i += 1
    return out


def content(seed, name, size):
    """size pseudo-random bytes, the same for the same seed and name."""
    return random.Random("%s/%s" % (seed, name)).getrandbits(size * 8).to_bytes(size, "little")


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("directory")
    p.add_argument("--bytes", type=int, required=True)
    p.add_argument("--seed", default="huaian-bench")
    args = p.parse_args(argv)
    if args.bytes < 1:
        p.error("--bytes must be at least 1")
    os.makedirs(args.directory, exist_ok=True)
    files = plan(args.bytes)
    for name, size in files:
        with open(os.path.join(args.directory, name), "wb") as fh:
            fh.write(content(args.seed, name, size))
    json.dump({"files": len(files), "bytes": sum(s for _, s in files)}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
