# -*- coding: utf-8 -*-
"""Pure parsers and normalisation for configuration baselines (module config_baseline).

Runs on managed hosts (Python 3.7 on Kylin V10): standard library only, no 3.8+ syntax.
Every parser takes a file's text and returns a flat dict key -> value, where a value is a string or,
for directives that may repeat, a list of strings in file order. Nothing here reads the system; all
of it is unit-tested on the controller (tests/unit/test_config_baseline.py).
"""
from __future__ import absolute_import, division, print_function

import re
import shlex
import xml.etree.ElementTree as ET

__metaclass__ = type

REDACTED = "<redacted>"

# Keys whose values are secrets. Matched case-insensitively anywhere in the key ("pass" and "key"
# only as a whole word of the key, so PubkeyAuthentication or HostKey stay visible). A word is set off
# by a non-alphanumeric character or by camelCase: keystorePass, keyPassPhrase, accessKey, apiKey.
# (?-i:...) makes the camelCase capital count as a capital (Python 3.6+).
_PASS_WORD = r"((^|[^a-z0-9])pass|(?-i:(?<=[a-z0-9])P)ass)"
DEFAULT_REDACT_KEYS = [
    r"(?<!no)passw(or)?d",
    r"pwd",
    r"secret",
    r"token",
    _PASS_WORD + r"([^a-z0-9]|$|(?-i:(?<=ass)(?=[A-Z])))",
    r"(^|[^a-z0-9])key([^a-z0-9]|$)",
    r"(?-i:(?<=[a-z0-9])(?<!Host)Key)([^a-z0-9]|$)",
    r"api[_-]?key",
    r"access[_-]?key",
    r"private[_-]?key",
    r"requirepass",
    r"masterauth",
    r"credential",
    # pw and auth as a word of the key (db.pw, user_pw, redis.auth), not inside another word (pwm, author).
    r"(^|[^a-z0-9])pw([^a-z0-9]|$)",
    r"(^|[^a-z0-9])auth$",
]
# Values that carry a secret whatever their key: assignments inside a command line, environment or URL
# (PGPASSWORD=, KB_PASS=, API_KEY=, x-auth-token:, not sudo's NOPASSWD:), options with the secret as
# their argument (--password x, keytool -storepass x), URLs with credentials (user:pw@ or :pw@), Redis
# ACL rules with a password (on ... >secret) and password hashes (#<sha256>).
DEFAULT_REDACT_VALUES = [
    r"((?<!no)passw(or)?d|pwd|secret|token|auth|api[_-]?key|access[_-]?key)[a-z_]*\s*[=:]\s*\S",
    _PASS_WORD + r"(w(or)?d|phrase)?(_[a-z_]*)?\s*[=:]\s*\S",
    r"(^|\s)-{1,2}[a-z_-]*pass(w(or)?d|phrase)?(=|\s+)[^\s-]",
    r"(^|\s)(on|off)(\s.*)?\s>[^\s>]",
    r"#[0-9a-f]{64}",
    r"://[^/\s@]*:[^/\s@]+@",
]
# Keys that name a password setting but hold no secret (a policy or an on/off switch).
DEFAULT_REDACT_EXEMPT = [
    r"password_?encryption$",
    r"passwordauthentication$",
    r"permitemptypasswords$",
    r"kbdinteractiveauthentication$",
    r"^pass_(max_days|min_days|warn_age|min_len)$",  # login.defs password aging
    r"^#",
]

FORMATS = ("kv", "kv_space", "redis", "hba", "xml", "jvm_options", "properties", "limits", "sysctl", "sshd",
           "crontab", "systemd", "lines", "version")

# sshd keywords that may appear several times and all count.
SSHD_MULTI = ("acceptenv", "allowgroups", "allowusers", "denygroups", "denyusers", "hostkey", "include",
              "listenaddress", "port", "setenv", "subsystem", "hostcertificate")
# JVM options where the last occurrence wins; other repeated options (-Xlog, -javaagent,
# --add-opens, ...) all count and are kept as a list.
_JVM_SIZE = re.compile(r"^(-X(?:mx|ms|ss|mn))(.+)$")


def _add(out, key, value, multi):
    """Set key; a repeated key becomes a list of every value when multi, else the last value wins."""
    if key in out and multi:
        previous = out[key]
        out[key] = (previous if isinstance(previous, list) else [previous]) + [value]
    else:
        out[key] = value


def _strip_comment(line, markers="#"):
    """The line without a trailing comment (markers outside single or double quotes)."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch in markers:
            return line[:i]
    return line


def _unquote(value):
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        inner = value[1:-1]
        return inner.replace("''", "'") if value[0] == "'" else inner.replace('\\"', '"')
    return value


def _lines(text):
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            yield line


def parse_kv(text):
    """PostgreSQL-style files (kingbase.conf, repmgr.conf): name = value, quotes stripped.

    Names are case-insensitive (lowercased); a later setting wins as the server reads it. include,
    include_if_exists and include_dir are kept as lists in file order.
    """
    out = {}
    for line in _lines(text):
        line = _strip_comment(line).strip()
        if not line:
            continue
        match = re.match(r"^([A-Za-z0-9_.\-]+)\s*(?:=\s*|\s+)(.*)$", line)
        if not match:
            _add(out, line.lower(), "", False)
            continue
        name, value = match.group(1).lower(), _unquote(match.group(2))
        _add(out, name, value, name.startswith("include"))
    return out


def parse_kv_space(text, multi_all=True):
    """directive value... (chrony.conf and similar): repeated directives keep every value in order."""
    out = {}
    for line in _lines(text):
        parts = line.split(None, 1)
        _add(out, parts[0], " ".join(parts[1].split()) if len(parts) > 1 else "", multi_all)
    return out


def _redis_split(line):
    try:
        return shlex.split(line, posix=True)
    except ValueError:
        return line.split()


def parse_redis(text):
    """redis.conf / sentinel.conf: directive -> value; repeated directives (save, bind...) keep all.

    Sentinel's per-master directives become 'sentinel <option> <master>' (and 'sentinel <option>'
    for global ones) so each is its own key.
    """
    global_sentinel = ("myid", "current-epoch", "announce-ip", "announce-port", "resolve-hostnames",
                       "announce-hostnames", "deny-scripts-reconfig", "sentinel-user", "sentinel-pass")
    out = {}
    for line in _lines(text):
        words = _redis_split(line)
        if not words:
            continue
        directive = words[0].lower()
        if directive == "sentinel" and len(words) >= 2:
            option = words[1].lower()
            if option in global_sentinel or len(words) == 2:
                _add(out, "sentinel " + option, " ".join(words[2:]), True)
            else:
                _add(out, "sentinel %s %s" % (option, words[2]), " ".join(words[3:]), True)
            continue
        _add(out, directive, " ".join(words[1:]), True)
    return out


def parse_hba(text):
    """sys_hba.conf / pg_hba.conf: one key per rule 'type database user [address]' -> 'method [options]'.

    The order of rules decides which applies, so '#order' keeps the rule keys in file order; a
    reordering shows as one changed key rather than as every rule.
    """
    out = {}
    order = []
    for line in _lines(text):
        fields = _strip_comment(line).split()
        if len(fields) < 3:
            continue
        kind = fields[0]
        if kind == "local":
            head, rest = fields[:3], fields[3:]
        elif len(fields) >= 5 and re.match(r"^\d+\.\d+\.\d+\.\d+$", fields[4] or ""):
            # address and netmask in two fields
            head, rest = fields[:3] + [fields[3] + "/" + fields[4]], fields[5:]
        else:
            head, rest = fields[:4], fields[4:]
        key = " ".join(head)
        if key in out:
            key = "%s #%d" % (key, order.count(key) + 2)
        order.append(key)
        out[key] = " ".join(rest)
    out["#order"] = order
    return out


def _local(tag):
    return tag.split("}", 1)[1] if tag.startswith("{") else tag


_XML_IDS = ("name", "id", "className", "port", "path", "key")


def _xml_segments(parent):
    """Path segment of each child: tag, qualified by a distinguishing attribute or position when repeated."""
    children = [c for c in parent if isinstance(c.tag, str)]
    by_tag = {}
    for child in children:
        by_tag.setdefault(_local(child.tag), []).append(child)
    segments = []
    for child in children:
        tag = _local(child.tag)
        same = by_tag[tag]
        if len(same) == 1:
            segments.append((child, tag))
            continue
        for attr in _XML_IDS:
            values = [c.get(attr) for c in same]
            if None not in values and len(set(values)) == len(values):
                segments.append((child, "%s[@%s='%s']" % (tag, attr, child.get(attr))))
                break
        else:
            segments.append((child, "%s[%d]" % (tag, same.index(child) + 1)))
    return segments


def parse_xml(text):
    """XML configuration flattened to xpath-like keys: /Server/Service[@name='bes']/Connector/@port.

    Element text is '<path>/text()'; an element with neither attributes, text nor children is kept as
    '<path>' -> '' so its presence counts. Comments and namespaces are dropped.
    """
    root = ET.fromstring(text.encode("utf-8") if not isinstance(text, bytes) else text)
    out = {}

    def walk(element, path):
        for name in sorted(element.attrib):
            out["%s/@%s" % (path, _local(name))] = element.attrib[name]
        body = (element.text or "").strip()
        if body:
            out[path + "/text()"] = " ".join(body.split())
        segments = _xml_segments(element)
        if not element.attrib and not body and not segments:
            out[path] = ""
        for child, segment in segments:
            walk(child, path + "/" + segment)

    walk(root, "/" + _local(root.tag))
    return out


def jvm_option_key(option):
    """(key, value, last_wins) of one JVM option: -Xmx2g -> ('-Xmx', '2g', True)."""
    size = _JVM_SIZE.match(option)
    if size:
        return size.group(1), size.group(2), True
    if option.startswith("-XX:"):
        body = option[4:]
        if body[:1] in "+-":
            return option, "on", True
        name, sep, value = body.partition("=")
        return "-XX:" + name, value if sep else "on", True
    if option.startswith("-D"):
        name, sep, value = option.partition("=")
        return name, value if sep else "", True
    if option.startswith("--") and "=" in option:
        name, _, value = option.partition("=")
        return name, value, False
    for sep in (":", "="):
        if sep in option:
            name, _, value = option.partition(sep)
            return name, value, False
    return option, "on", True


def parse_jvm_options(text):
    """JVM options file (one or more options a line): one key per option name.

    -Xmx/-Xms/-Xss/-Xmn, -XX:Name=value and -Dname=value: the last occurrence wins, as in the JVM;
    -XX:+Flag/-XX:-Flag are their own keys; options taking a separate argument (--add-opens x) and
    repeatable ones (-Xlog:..., -javaagent:...) keep every value in order.
    """
    out = {}
    tokens = []
    for line in _lines(text):
        try:
            tokens.extend(shlex.split(line, posix=True))
        except ValueError:
            tokens.extend(line.split())
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.startswith("--") and "=" not in token and i + 1 < len(tokens) and not tokens[i + 1].startswith("-"):
            _add(out, token, tokens[i + 1], True)
            i += 2
            continue
        key, value, last_wins = jvm_option_key(token)
        _add(out, key, value, not last_wins)
        i += 1
    return out


def parse_properties(text):
    """Java .properties: key=value, key: value or key value; '\\' continues a line; # and ! comment."""
    out = {}
    logical = []
    pending = ""
    for raw in text.splitlines():
        line = raw.lstrip()
        if not pending and (not line or line[0] in "#!"):
            continue
        if line.endswith("\\") and not line.endswith("\\\\"):
            pending += line[:-1]
            continue
        logical.append(pending + line)
        pending = ""
    if pending:
        logical.append(pending)
    for line in logical:
        match = re.match(r"^((?:\\.|[^=:\s\\])+)\s*[=:\s]\s*(.*)$", line)
        if match:
            key, value = match.group(1), match.group(2).strip()
        else:
            key, value = line.strip(), ""
        out[key.replace("\\", "")] = value
    return out


def parse_limits(text):
    """pam_limits files: 'domain type item' -> value (a later line for the same triple wins)."""
    out = {}
    for line in _lines(text):
        fields = _strip_comment(line).split()
        if len(fields) == 4:
            out[" ".join(fields[:3])] = fields[3]
    return out


def parse_sysctl(text):
    """sysctl.d files: key = value; '/' separators become '.', a leading '-' (ignore errors) dropped."""
    out = {}
    for line in _lines(text):
        if line.startswith(";"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            continue
        key = key.strip().lstrip("-").replace("/", ".")
        out[key] = " ".join(value.split())
    return out


def parse_sshd(text):
    """sshd_config: keywords lowercased; the first value counts (as sshd reads it) except for repeatable
    keywords, which keep all; options inside a Match block are keyed 'match <criteria>/<keyword>'."""
    out = {}
    prefix = ""
    for line in _lines(text):
        match = re.match(r"^([^\s=]+)(?:\s*=\s*|\s+)?(.*)$", line)
        keyword, value = match.group(1).lower(), " ".join(match.group(2).split())
        if keyword == "match":
            prefix = "" if value.lower() == "all" else "match %s/" % " ".join(value.split())
            continue
        key = prefix + keyword
        if keyword in SSHD_MULTI:
            _add(out, key, value, True)
        elif key not in out:
            out[key] = value
    return out


def parse_sshd_effective(text):
    """`sshd -T` output: one lowercase keyword and value a line; repeated keywords keep all."""
    out = {}
    for line in _lines(text):
        parts = line.split(None, 1)
        _add(out, parts[0].lower(), parts[1].strip() if len(parts) > 1 else "", True)
    return out


def _cron_entry(line):
    """(schedule, command) of a crontab entry line, or None when it is not one."""
    if line.startswith("@"):
        parts = line.split(None, 1)
        return parts[0], parts[1] if len(parts) > 1 else ""
    parts = line.split(None, 5)
    if len(parts) < 6:
        return None
    return " ".join(parts[:5]), parts[5]


def parse_crontab(text):
    """A user's crontab: one key per entry.

    Entries Ansible manages are preceded by '#Ansible: <name>': key 'job <name>', value 'schedule
    command'. A label names only the line right after it, as Ansible's cron module reads it; a job
    Ansible disabled is that line commented out, recorded as 'job <name>' -> 'disabled: schedule
    command'. Others: key 'cmd <command>', value the schedule. Variables: 'env <NAME>'.
    """
    out = {}
    label = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            match = re.match(r"^#Ansible:\s*(.+)$", line)
            if match:
                label = match.group(1).strip()
                continue
            if label:
                entry = _cron_entry(line.lstrip("#").strip())
                if entry:
                    _add(out, "job " + label, "disabled: %s %s" % entry, True)
            # Any other line ends the label: it must not attach to the next, unrelated job.
            label = None
            continue
        env = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$", line)
        if env:
            out["env " + env.group(1)] = _unquote(env.group(2))
            label = None
            continue
        entry = _cron_entry(line)
        if entry is None:
            label = None
            continue
        schedule, command = entry
        if label:
            _add(out, "job " + label, schedule + " " + command, True)
        else:
            _add(out, "cmd " + command, schedule, True)
        label = None
    return out


def parse_systemd(text):
    """systemd unit or drop-in: 'Section.Key' -> value; repeatable keys (ExecStartPre, Environment...)
    become lists; an empty assignment resets the list, as systemd does."""
    out = {}
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, sep, value = line.partition("=")
        if not sep:
            continue
        name = "%s.%s" % (section, key.strip())
        value = value.strip()
        if value == "":
            out[name] = ""
        elif name in out and out[name] != "":
            _add(out, name, value, True)
        else:
            out[name] = value
    return out


def parse_lines(text):
    """Any file as its set of meaningful lines: key = the line, value 'present'."""
    out = {}
    for line in _lines(text):
        out[" ".join(line.split())] = "present"
    return out


def parse_version(text):
    """A VERSION file: its first meaningful line."""
    for line in _lines(text):
        return {"version": line}
    return {"version": ""}


PARSERS = {
    "kv": parse_kv,
    "kv_space": parse_kv_space,
    "redis": parse_redis,
    "hba": parse_hba,
    "xml": parse_xml,
    "jvm_options": parse_jvm_options,
    "properties": parse_properties,
    "limits": parse_limits,
    "sysctl": parse_sysctl,
    "sshd": parse_sshd,
    "crontab": parse_crontab,
    "systemd": parse_systemd,
    "lines": parse_lines,
    "version": parse_version,
}


def parse(fmt, text):
    """Parse text in one of FORMATS; a parse error becomes {'#error': reason} (never raises)."""
    try:
        return PARSERS[fmt](text)
    except (ET.ParseError, ValueError) as exc:
        return {"#error": "%s: %s" % (type(exc).__name__, exc)}


def compile_patterns(patterns):
    return [re.compile(p, re.IGNORECASE) for p in patterns]


def _word_span(text, start, stop):
    """(start, stop) of the whitespace-separated word around text[start:stop], a quoted part of it
    (which may hold spaces: PGPASSWORD='a b c') counting as one word; an unclosed quote runs to the end."""
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    quote = None
    i = start
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch.isspace() and i >= stop:
            break
        i += 1
    return start, i


def mask_text(text, patterns):
    """text with every whitespace-separated word a pattern match touches replaced by REDACTED.

    For keys that embed a value (a crontab entry's command, a hba rule): the key stays readable
    and unique enough, the secret does not survive. A quoted span is one word, so a quoted secret
    with spaces is masked whole.
    """
    for pattern in patterns:
        spans = []
        for match in pattern.finditer(text):
            # The word holding the last character of the match (the secret's first one), and every
            # word the match runs through.
            last = max(match.end() - 1, match.start())
            while last > match.start() and text[last].isspace():
                last -= 1
            first = match.start()
            while first < last and text[first].isspace():
                first += 1
            start, stop = _word_span(text, first, last + 1)
            if spans and start < spans[-1][1]:  # two matches in one word (or quoted span): mask it once
                previous = spans.pop()
                start, stop = previous[0], max(previous[1], stop)
            spans.append((start, stop))
        for start, stop in reversed(spans):
            text = text[:start] + REDACTED + text[stop:]
    return text


# XML name/value pairs: <property name="password" value="X"/>, <entry key="password">X</entry>,
# <property><name>jdbc.password</name><value>X</value></property>, <init-param><param-name>...
# The key holding the name: the element's @name / @key, or the text of its name / key / param-name child.
_XML_NAME_KEY = re.compile(r"^(.*)/(?:@name|@key|(?:name|key|param-name)(?:\[\d+\])?/text\(\))$")


def _xml_pair_secrets(data, key_patterns, exempt_patterns):
    """Keys of data holding the value of an XML name/value pair whose name is a secret's: everything
    under the element except the name itself."""
    hidden = set()
    for key, value in data.items():
        match = _XML_NAME_KEY.match(key)
        if not match or not isinstance(value, str):
            continue
        if any(p.search(value) for p in key_patterns) and not any(p.search(value) for p in exempt_patterns):
            prefix = match.group(1) + "/"
            hidden.update(k for k in data if k.startswith(prefix) and k != key and not _XML_NAME_KEY.match(k))
    return hidden


def redact(data, key_patterns, value_patterns, exempt_patterns):
    """(redacted copy of data, sorted list of redacted keys).

    A value is replaced by REDACTED when its key matches a key pattern (and no exempt pattern), when
    any of its values matches a value pattern, or when it is the value of an XML name/value pair whose
    name matches a key pattern (and no exempt pattern). Nothing of the value (no hash) is kept. A key
    that itself carries a secret (value patterns) has the words holding it masked.
    """
    out = {}
    hidden = []
    pairs = _xml_pair_secrets(data, key_patterns, exempt_patterns)
    for key, value in data.items():
        if key != "#order" and any(p.search(key) for p in value_patterns):
            key = mask_text(key, value_patterns)
            out[key] = REDACTED
            hidden.append(key)
            continue
        values = value if isinstance(value, list) else [value]
        by_key = any(p.search(key) for p in key_patterns) and not any(p.search(key) for p in exempt_patterns)
        by_value = any(p.search(v) for p in value_patterns for v in values if isinstance(v, str))
        if (by_key or by_value or key in pairs) and key != "#order":
            out[key] = REDACTED
            hidden.append(key)
        else:
            out[key] = value
    return out, sorted(hidden)


def normalise_value(value):
    """Values as JSON-stable strings (lists of strings kept in order)."""
    if isinstance(value, list):
        return [normalise_value(v) for v in value]
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def normalise(data):
    return dict((str(k), normalise_value(v)) for k, v in data.items())


def parse_passwd(text):
    """/etc/passwd -> name -> {uid, gid, home, shell} (the password field is never read)."""
    out = {}
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) >= 7 and fields[0] and not fields[0].startswith("#"):
            out[fields[0]] = {"uid": fields[2], "gid": fields[3], "home": fields[5], "shell": fields[6]}
    return out


def parse_group(text):
    """/etc/group -> list of (name, gid, members); the password field is never read."""
    out = []
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) >= 4 and fields[0] and not fields[0].startswith("#"):
            out.append((fields[0], fields[2], [m for m in fields[3].split(",") if m]))
    return out


def accounts_baseline(names, passwd_text, group_text):
    """Keys '<name>.uid|gid|home|shell|groups' for each listed account ('<name>' -> 'absent' if missing)."""
    users = parse_passwd(passwd_text)
    groups = parse_group(group_text)
    out = {}
    for name in names:
        user = users.get(name)
        if user is None:
            out[name] = "absent"
            continue
        member_of = sorted(set([g for g, gid, members in groups if name in members or gid == user["gid"]]))
        for field in ("uid", "gid", "home", "shell"):
            out["%s.%s" % (name, field)] = user[field]
        out["%s.groups" % name] = member_of
    return out


def parse_dpkg_query(text):
    """`dpkg-query -W -f '${Package} ${Version} ${db:Status-Abbrev}\\n'` -> name -> version (installed only)."""
    out = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[2].startswith("ii"):
            out[fields[0].split(":")[0]] = fields[1]
    return out


def parse_rpm_query(text):
    """`rpm -q --qf '%{NAME} %{EPOCH}:%{VERSION}-%{RELEASE}.%{ARCH}\\n'` -> name -> version.

    '(none):' epochs are dropped; several installed versions (kernels) are joined with ', '.
    'package X is not installed' lines are ignored.
    """
    out = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) != 2 or line.startswith("package "):
            continue
        name, version = fields
        if version.startswith("(none):"):
            version = version[len("(none):"):]
        out[name] = version if name not in out else out[name] + ", " + version
    return out


def packages_baseline(names, installed):
    """name -> version for each listed package; 'absent' when it is not installed."""
    return dict((name, installed.get(name, "absent")) for name in names)
