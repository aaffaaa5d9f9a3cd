#!/usr/bin/python3
# -*- coding: utf-8 -*-
"""kb_backup_tool: consistent table checksums, restore points and encrypted dumps for KingbaseES.

  mark       a named restore point and the checksums of every user table, consistent with each
             other (what a point-in-time restore to that name must reproduce)
  dump       sys_dump -Fc of one database from an exported snapshot, encrypted as it is written,
             with the checksums of the same snapshot
  checksums  the checksums of every user table (of a restored scratch copy)
  compare    compare two checksum documents; exit 1 naming every difference
  decrypt    check an encrypted dump against its sha256, then decrypt it to stdout

A table's checksum is its row count and the sum of the first 64 bits of md5(row::text) over its rows:
order-independent, so a physical and a logical copy compare equal. Sessions fix the settings that
change a row's text form (TimeZone, DateStyle, extra_float_digits).

Connection: ksql's own environment (KINGBASE_HOST, KINGBASE_PORT, KINGBASE_USER, KINGBASE_PASSFILE).
Passwords and passphrases are read from files, never from the command line.
Runs on the managed hosts' system Python (3.7 on Kylin V10): standard library only.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import time

END = "__kb_backup_tool_end__"
SESSION_SETTINGS = ("SET client_min_messages = warning; SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; "
                    "SET extra_float_digits = 3; SET IntervalStyle = 'iso_8601'")
EXCLUDED_SCHEMAS = ("repmgr",)


class ToolError(Exception):
    pass


# --- pure functions (unit-tested) ------------------------------------------------------------------

def quote_ident(name):
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text):
    return "'" + text.replace("'", "''") + "'"


def tables_sql(view):
    excluded = ", ".join(quote_literal(s) for s in EXCLUDED_SCHEMAS)
    return ("SELECT schemaname, relname FROM %s WHERE schemaname NOT IN (%s) ORDER BY 1, 2"
            % (view, excluded))


def checksum_sql(schema, table):
    return ("SELECT count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 16))::bit(64)::bigint::numeric), 0) "
            "FROM %s.%s AS t" % (quote_ident(schema), quote_ident(table)))


def lock_sql(tables):
    if not tables:
        return ""
    return "LOCK TABLE %s IN SHARE MODE" % ", ".join(quote_ident(s) + "." + quote_ident(t) for s, t in tables)


def restore_point_name_ok(name):
    return 0 < len(name) <= 63 and all(c.isalnum() or c in "-_." for c in name)


def compare_checksums(expected, actual):
    """Differences between two checksum documents ({database: {schema.table: {rows, sum}}})."""
    problems = []
    for db in sorted(set(expected) | set(actual)):
        if db not in actual:
            problems.append("database %s: missing from the restored copy" % db)
            continue
        if db not in expected:
            problems.append("database %s: in the restored copy but not in the source" % db)
            continue
        exp, act = expected[db], actual[db]
        for table in sorted(set(exp) | set(act)):
            if table not in act:
                problems.append("%s: table %s missing from the restored copy" % (db, table))
            elif table not in exp:
                problems.append("%s: table %s not in the source" % (db, table))
            elif int(exp[table]["rows"]) != int(act[table]["rows"]):
                problems.append("%s: table %s has %s rows, the source had %s"
                                % (db, table, act[table]["rows"], exp[table]["rows"]))
            elif str(exp[table]["sum"]) != str(act[table]["sum"]):
                problems.append("%s: table %s has the source's %s rows but different contents"
                                % (db, table, exp[table]["rows"]))
    return problems


def totals(checksums):
    """Tables and rows in a checksum document."""
    tables = sum(len(t) for t in checksums.values())
    rows = sum(int(v["rows"]) for t in checksums.values() for v in t.values())
    return {"tables": tables, "rows": rows}


def openssl_args(openssl, passfile, decrypt=False, iterations=100000):
    args = [openssl, "enc", "-aes-256-cbc", "-md", "sha256", "-pbkdf2", "-iter", str(iterations),
            "-pass", "file:" + passfile]
    return args + (["-d"] if decrypt else ["-salt"])


# --- sessions --------------------------------------------------------------------------------------

class Session(object):
    """One ksql session kept open, so a transaction (and its snapshot or locks) spans several steps."""

    def __init__(self, ksql, database):
        self.database = database
        self.proc = subprocess.Popen(
            [ksql, "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-d", database],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            universal_newlines=True, bufsize=1)
        self.run(SESSION_SETTINGS)

    def run(self, sql):
        """Run statements and return the rows the last of them printed (lists of strings)."""
        try:
            self.proc.stdin.write(sql.strip().rstrip(";") + ";\n\\echo " + END + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self._fail(sql)
        rows = []
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            if line == END:
                return rows
            rows.append(line.split("\t"))
        self._fail(sql)

    def _fail(self, sql):
        self.proc.wait()
        err = self.proc.stderr.read().strip()
        raise ToolError("%s: %s (while running: %s)" % (self.database, err or "ksql ended", sql.split(";")[0][:120]))

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("\\q\n")
                self.proc.stdin.close()
            except (BrokenPipeError, OSError):
                pass
            self.proc.wait()


def list_tables(session, view):
    return [(r[0], r[1]) for r in session.run(tables_sql(view))]


def table_checksums(session, tables):
    out = {}
    for schema, table in tables:
        rows = session.run(checksum_sql(schema, table))
        out["%s.%s" % (schema, table)] = {"rows": int(rows[0][0]), "sum": rows[0][1]}
    return out


# --- subcommands -----------------------------------------------------------------------------------

def cmd_mark(args):
    if not restore_point_name_ok(args.name):
        raise ToolError("restore point name %r: use up to 63 letters, digits, '-', '_' or '.'" % args.name)
    locks, readers = {}, {}
    try:
        tables = {}
        for db in args.database:
            locks[db] = Session(args.ksql, db)
            tables[db] = list_tables(locks[db], args.tables_view)
        # Writers to the application tables wait while every database's lock is held: the snapshots
        # and the restore point then see the same committed state.
        for db in args.database:
            locks[db].run("SET lock_timeout = '%ds'; BEGIN ISOLATION LEVEL REPEATABLE READ; %s"
                          % (args.lock_timeout, lock_sql(tables[db]) or "SELECT 1"))
        snapshots = {db: locks[db].run("SELECT %s()" % args.fn_export_snapshot)[0][0] for db in args.database}
        first = args.database[0]
        lsn, marked_at, epoch = locks[first].run(
            "SELECT %s(%s), to_char(now(), 'YYYY-MM-DD\"T\"HH24:MI:SS.USOF'), extract(epoch from now())"
            % (args.fn_restore_point, quote_literal(args.name)))[0]
        for db in args.database:
            readers[db] = Session(args.ksql, db)
            readers[db].run("BEGIN ISOLATION LEVEL REPEATABLE READ; SET TRANSACTION SNAPSHOT %s"
                            % quote_literal(snapshots[db]))
        for db in args.database:
            locks[db].run("COMMIT")
        checksums = {}
        for db in args.database:
            checksums[db] = table_checksums(readers[db], tables[db])
            readers[db].run("COMMIT")
        # Close the WAL segment holding the restore point so it is archived now.
        locks[first].run("SELECT %s()" % args.fn_switch_wal)
    finally:
        for s in list(locks.values()) + list(readers.values()):
            s.close()
    doc = {"kind": "restore_point", "name": args.name, "lsn": lsn, "time": marked_at, "epoch": float(epoch),
           "databases": checksums, "totals": totals(checksums)}
    write_json(args.out, doc)
    print("restore point %s at %s (%s): %d tables, %d rows" % (args.name, lsn, marked_at,
                                                             doc["totals"]["tables"], doc["totals"]["rows"]))


def cmd_checksums(args):
    checksums = {}
    for db in args.database:
        session = Session(args.ksql, db)
        try:
            session.run("BEGIN ISOLATION LEVEL REPEATABLE READ")
            checksums[db] = table_checksums(session, list_tables(session, args.tables_view))
            session.run("COMMIT")
        finally:
            session.close()
    write_json(args.out, {"kind": "checksums", "databases": checksums, "totals": totals(checksums)})


def cmd_dump(args):
    session = Session(args.ksql, args.database)
    part = args.out + ".part"
    try:
        session.run("BEGIN ISOLATION LEVEL REPEATABLE READ")
        snapshot, taken_at = session.run("SELECT %s(), to_char(now(), 'YYYY-MM-DD\"T\"HH24:MI:SS.USOF')"
                                         % args.fn_export_snapshot)[0]
        checksums = {args.database: table_checksums(session, list_tables(session, args.tables_view))}
        digest, size = hashlib.sha256(), 0
        dump = subprocess.Popen([args.sys_dump, "-Fc", "--snapshot=" + snapshot, "-d", args.database],
                                stdout=subprocess.PIPE)
        enc = subprocess.Popen(openssl_args(args.openssl, args.passfile), stdin=dump.stdout,
                               stdout=subprocess.PIPE)
        dump.stdout.close()
        with open(part, "wb") as fh:
            for chunk in iter(lambda: enc.stdout.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
                fh.write(chunk)
        if dump.wait() != 0 or enc.wait() != 0:
            raise ToolError("%s: sys_dump exited %s, openssl exited %s" % (args.database, dump.returncode, enc.returncode))
        session.run("COMMIT")
    except BaseException:
        if os.path.exists(part):
            os.unlink(part)
        raise
    finally:
        session.close()
    os.rename(part, args.out)
    doc = {"kind": "dump", "database": args.database, "time": taken_at, "file": os.path.basename(args.out),
           "format": "sys_dump -Fc | openssl enc -aes-256-cbc -pbkdf2", "size_bytes": size,
           "sha256": digest.hexdigest(), "databases": checksums, "totals": totals(checksums)}
    write_json(args.meta, doc)
    print("dump of %s as of %s: %d bytes, %d tables, %d rows" % (args.database, taken_at, size,
                                                                doc["totals"]["tables"], doc["totals"]["rows"]))


def cmd_compare(args):
    expected = read_json(args.expected)["databases"]
    actual = read_json(args.actual)["databases"]
    if args.database:
        expected = {db: expected[db] for db in args.database if db in expected}
        actual = {db: actual[db] for db in args.database if db in actual}
    problems = compare_checksums(expected, actual)
    for p in problems:
        print("MISMATCH " + p)
    t = totals(expected)
    print("%s: %d tables, %d rows compared, %d differences" % ("match" if not problems else "differ",
                                                              t["tables"], t["rows"], len(problems)))
    return 1 if problems else 0


def cmd_decrypt(args):
    digest = hashlib.sha256()
    with open(args.input, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != args.sha256:
        raise ToolError("%s: sha256 %s, the backup record says %s: the file is damaged"
                        % (args.input, digest.hexdigest(), args.sha256))
    sys.stdout.flush()
    rc = subprocess.call(openssl_args(args.openssl, args.passfile, decrypt=True) + ["-in", args.input])
    if rc != 0:
        raise ToolError("%s: decryption failed (wrong passphrase or damaged file)" % args.input)
    return 0


def read_json(path):
    with open(path) as fh:
        return json.load(fh)


def write_json(path, doc):
    if path == "-":
        json.dump(doc, sys.stdout, indent=2, sort_keys=True, ensure_ascii=False)
        sys.stdout.write("\n")
        return
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(doc, fh, indent=2, sort_keys=True, ensure_ascii=False)
        fh.write("\n")
    os.rename(tmp, path)
    result = os.environ.get("HUAIAN_JOB_RESULT")
    if result and doc.get("size_bytes") is not None:
        with open(result, "w") as fh:
            json.dump({"size_bytes": doc["size_bytes"], "tables": doc["totals"]["tables"],
                       "rows": doc["totals"]["rows"]}, fh)


def parser():
    p = argparse.ArgumentParser(description="Consistent checksums, restore points and encrypted dumps for KingbaseES.")
    p.add_argument("--ksql", default="ksql")
    p.add_argument("--tables-view", default="sys_stat_user_tables")
    p.add_argument("--fn-export-snapshot", default="sys_export_snapshot")
    p.add_argument("--fn-restore-point", default="sys_create_restore_point")
    p.add_argument("--fn-switch-wal", default="sys_switch_wal")
    p.add_argument("--openssl", default="openssl")
    sub = p.add_subparsers(dest="command")
    m = sub.add_parser("mark")
    m.add_argument("--database", action="append", required=True)
    m.add_argument("--name", required=True)
    m.add_argument("--lock-timeout", type=int, default=30)
    m.add_argument("--out", required=True)
    c = sub.add_parser("checksums")
    c.add_argument("--database", action="append", required=True)
    c.add_argument("--out", required=True)
    d = sub.add_parser("dump")
    d.add_argument("--database", required=True)
    d.add_argument("--sys-dump", default="sys_dump")
    d.add_argument("--passfile", required=True)
    d.add_argument("--out", required=True)
    d.add_argument("--meta", required=True)
    k = sub.add_parser("compare")
    k.add_argument("--expected", required=True)
    k.add_argument("--actual", required=True)
    k.add_argument("--database", action="append")
    x = sub.add_parser("decrypt")
    x.add_argument("--input", required=True)
    x.add_argument("--sha256", required=True)
    x.add_argument("--passfile", required=True)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    handlers = {"mark": cmd_mark, "checksums": cmd_checksums, "dump": cmd_dump, "compare": cmd_compare,
                "decrypt": cmd_decrypt}
    if args.command not in handlers:
        parser().print_help()
        return 2
    started = time.time()
    try:
        rc = handlers[args.command](args) or 0
    except ToolError as exc:
        sys.stderr.write("kb_backup_tool %s: %s\n" % (args.command, exc))
        return 1
    if args.command not in ("compare", "decrypt"):
        sys.stderr.write("kb_backup_tool %s: %.1f s\n" % (args.command, time.time() - started))
    return rc


if __name__ == "__main__":
    sys.exit(main())
