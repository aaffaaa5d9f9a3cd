#!/usr/bin/env python3
"""Say in a few lines why a molecule scenario failed: for each failed task in its log, the scenario's step,
the task's name, the host and the start of the message.

    tools/molecule_digest.py [--lines N] [--width W] .cache/molecule/failover.log ...

make molecule-all prints this after every scenario has ended, so the last lines of a CI run name the cause
(the log's own tail is buried by the scenarios that end after it). Standard library only.
"""
import argparse
import re
import sys

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# Molecule draws a frame around each step's output ("  │ "); the text inside is Ansible's own.
FRAME = re.compile(r"^\s*[│┃|]\s?")
STEP = re.compile(r"(?:INFO\s+)?(\S+)\s+➜\s+(\w+):\s+Executing")
STEP_FAILED = re.compile(r"(\S+)\s+➜\s+(\w+):\s+Executed: Failed")
TASK = re.compile(r"^(?:TASK|RUNNING HANDLER) \[(.*)\]")
TASK_OPEN = re.compile(r"^(?:TASK|RUNNING HANDLER) \[([^\]]*)$")
PLAY = re.compile(r"^PLAY \[(.*)\]")
FAILURE = re.compile(r"^(fatal|failed): \[([^\]]+)\](?: \(item=.*?\))?:? (?:FAILED! )?=> ?(.*)$")
ERROR = re.compile(r"^(ERROR!|\[ERROR\]:?) ?(.*)$")
MSG = re.compile(r'"msg": "((?:[^"\\]|\\.)*)"')


def clean(line):
    return FRAME.sub("", ANSI.sub("", line.rstrip("\n")))


YAML_KEY = re.compile(r"^(\s*)([A-Za-z_]+):(?: |$)")


def unquote(text):
    """A YAML scalar as written: '...' doubles its quotes, "..." escapes."""
    if len(text) > 1 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    if len(text) > 1 and text[0] == text[-1] == '"':
        return text[1:-1].encode().decode("unicode_escape", errors="replace")
    return text


def message(text, following):
    """The failure's message: its msg, from a JSON result on the arrow's line or a YAML one below it (which
    may run over several lines), else whatever follows the arrow."""
    if text.strip().startswith("{"):
        found = MSG.search(" ".join([text] + [f.strip() for f in following]))
        if found:
            return found.group(1).encode().decode("unicode_escape", errors="replace")
    for i, line in enumerate(following):
        key = YAML_KEY.match(line)
        if key and key.group(2) == "msg":
            indent = len(key.group(1))
            body = [line[key.end():]]
            for more in following[i + 1:]:
                nested = YAML_KEY.match(more)
                if nested and len(nested.group(1)) <= indent:
                    break
                body.append(more.strip())
            return unquote(" ".join(body).strip())
    return " ".join([text.strip()] + [f.strip() for f in following]).strip()


NESTED = re.compile(r"(fatal: \[[^\]]+\].*|\"msg\": \".*|ERROR! .*)$")


def nested_cause(block):
    """A command that ran a playbook failed: the last failure its own output shows (indented inside the
    result, up to the next task of the outer play)."""
    last = ""
    for line in block:
        if TASK.match(line) or TASK_OPEN.match(line) or PLAY.match(line) or STEP_FAILED.search(line):
            break
        found = NESTED.search(line.strip().strip("'-\" "))
        if found:
            last = found.group(1)
    return " | inside: " + last if last else ""


def digest(lines):
    """Every failure in a log, in order: (step, play, task, host, message). A failure the task ignored
    ("...ignoring") is left out."""
    out = []
    # Where the log is: the molecule step, the play, the task; a task header that wraps over lines ends with "]".
    at = {"step": "", "play": "", "task": "", "pending": None}
    headers = (("step", STEP.search, 2), ("play", PLAY.match, 1), ("task", TASK.match, 1), ("pending", TASK_OPEN.match, 1))
    cleaned = [clean(raw) for raw in lines]
    for i, line in enumerate(cleaned):
        if at["pending"] is not None:
            at["pending"] += " " + line.strip()
            if "]" in line:
                at["task"], at["pending"] = at["pending"].rsplit("]", 1)[0], None
            continue
        header = next(((slot, m.group(g)) for slot, find, g in headers for m in [find(line)] if m), None)
        if header:
            at[header[0]] = header[1]
            continue
        m = FAILURE.match(line)
        if m:
            following = []
            for nxt in cleaned[i + 1:i + 40]:
                if (TASK.match(nxt) or TASK_OPEN.match(nxt) or PLAY.match(nxt) or FAILURE.match(nxt)
                        or STEP_FAILED.search(nxt) or not nxt.strip()):
                    break
                following.append(nxt)
            if any(f.strip().startswith("...ignoring") for f in following):
                continue
            text = message(m.group(3), following)
            if "non-zero return code" in text:
                text += nested_cause(cleaned[i + 1:i + 3000])
            out.append((at["step"], at["play"], at["task"], m.group(2), text))
            continue
        m = ERROR.match(line)
        if m and m.group(2).strip():
            out.append((at["step"], at["play"], at["task"], "", m.group(2).strip()))
    return out


def failed_steps(lines):
    return [m.group(2) for m in (STEP_FAILED.search(clean(raw)) for raw in lines) if m]


def render(path, lines, width, limit):
    found = digest(lines)
    failed = failed_steps(lines)
    head = "%s: %s" % (path, "failed at " + ", ".join(failed) if failed else "no failed molecule step")
    rows = [head]
    for step, play, task, host, msg in found[-limit:]:
        where = " / ".join(p for p in (step, play, task) if p)
        rows.append("  %s%s" % (where, " on " + host if host else ""))
        text = " ".join(msg.split())
        rows.append("    " + (text if len(text) <= width else text[:width] + " …"))
    if not found:
        rows.append("  (no failed task in the log: see its end)")
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logs", nargs="+")
    parser.add_argument("--lines", type=int, default=3, help="the last N failures of each log")
    parser.add_argument("--width", type=int, default=600, help="characters of each message")
    args = parser.parse_args(argv)
    for path in args.logs:
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                lines = fh.readlines()
        except OSError as exc:
            print("%s: cannot read (%s)" % (path, exc.strerror))
            continue
        print("\n".join(render(path, lines, args.width, args.lines)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
