"""config_baseline: each parser on fixtures shaped like the roles' rendered templates (tests/fixtures/baseline),
redaction of secrets, and main() collection against a fake AnsibleModule."""
import ast
import json
import os
import pathlib

import pytest

import config_baseline as mod
from ansible.module_utils import huaian_baseline as hb
from conftest import ROOT, run_module_main

FIX = ROOT / "tests" / "fixtures" / "baseline"
CANARIES = ("changeit-canary", "S3cret-canary-value", "Redis-canary-pw", "canary-cron-pw", "canary-env-pw",
            "Preview-canary-pw", "canary-cipher-pass", "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8")


def fixture(name):
    return (FIX / name).read_text()


def redacted(data):
    return hb.redact(data, hb.compile_patterns(hb.DEFAULT_REDACT_KEYS), hb.compile_patterns(hb.DEFAULT_REDACT_VALUES),
                     hb.compile_patterns(hb.DEFAULT_REDACT_EXEMPT))


def test_kv_kingbase_conf():
    d = hb.parse_kv(fixture("kingbase.conf"))
    assert d["max_connections"] == "100"
    assert d["listen_addresses"] == "*"
    assert d["log_line_prefix"] == "%m [%p] %q%u@%d/%a "
    assert d["work_mem"] == "8MB"  # names lowercased, trailing comment dropped
    assert d["archive_command"].endswith("archive-push %p # pgbackrest")  # '#' inside quotes is not a comment
    assert d["include_if_exists"] == ["kingbase.local.conf", "second.conf"]  # include order kept
    assert d["synchronous_standby_names"] == ""


def test_kv_later_setting_wins_and_doubled_quote():
    assert hb.parse_kv("a = 1\na = 2\nb = 'it''s'\n") == {"a": "2", "b": "it's"}


def test_kv_repmgr_conf():
    d = hb.parse_kv(fixture("repmgr.conf"))
    assert d["node_id"] == "1" and d["node_name"] == "city-kb01"
    assert d["conninfo"].startswith("host=10.231.10.11 ")
    assert d["pg_bindir"] == "/usr/lib/postgresql/15/bin"


def test_hba_rules_and_order():
    d = hb.parse_hba(fixture("sys_hba.conf"))
    assert d["local all all"] == "scram-sha-256"
    assert d["host replication esrep 10.231.10.12/32"] == "scram-sha-256"
    assert d["hostssl all all 192.168.1.0/255.255.255.0"] == "cert clientcert=verify-full"
    assert d["#order"][:2] == ["local all all", "host all all 127.0.0.1/32"]
    assert len(d["#order"]) == 8


def test_hba_reorder_changes_only_order():
    a = hb.parse_hba("local all all peer\nhost all all 127.0.0.1/32 md5\n")
    b = hb.parse_hba("host all all 127.0.0.1/32 md5\nlocal all all peer\n")
    assert {k: v for k, v in a.items() if k != "#order"} == {k: v for k, v in b.items() if k != "#order"}
    assert a["#order"] != b["#order"]


def test_xml_server_xml():
    d = hb.parse_xml(fixture("server.xml"))
    assert d["/Server/@port"] == "-1"
    assert d["/Server/Service[@name='bes']/Connector/@port"] == "18080"
    assert d["/Server/Service[@name='bes-admin']/Connector/@port"] == "1900"
    assert d["/Server/Listener[@className='org.apache.catalina.startup.VersionLoggerListener']/@logArgs"] == "false"
    pool = "/Server/GlobalNamingResources/Resource/@"
    assert d[pool + "maxTotal"] == "50"
    assert d[pool + "password"] == "S3cret-canary-value"  # parsed; redaction is separate
    valves = [k for k in d if "Valve[@className=" in k]
    assert len(valves) == 4


def test_xml_namespace_text_and_empty_elements():
    d = hb.parse_xml(fixture("web.xml"))
    assert d["/web-app/session-config/session-timeout/text()"] == "30"
    assert d["/web-app/welcome-file-list/welcome-file[2]/text()"] == "index.jsp"
    assert d["/web-app/distributable"] == ""
    assert d["/web-app/@version"] == "6.0"


def test_xml_parse_error_is_reported_not_raised():
    assert "#error" in hb.parse("xml", "<Server><broken></Server>")


def test_jvm_options():
    d = hb.parse_jvm_options(fixture("jvm.options"))
    assert d["-Xms"] == "256m"
    assert d["-Xmx"] == "512m"  # the last one wins, as in the JVM
    assert d["-XX:+UseG1GC"] == "on"
    assert d["-XX:MaxGCPauseMillis"] == "200"
    assert d["-Dfile.encoding"] == "UTF-8"
    assert d["-Djava.security.egd"] == "file:/dev/./urandom"
    assert d["-server"] == "on"
    assert d["--add-opens"] == ["java.base/java.lang=ALL-UNNAMED", "java.base/java.io=ALL-UNNAMED"]
    assert d["-Xlog"].startswith("gc*:file=/var/log/bes/server/gc.log")


@pytest.mark.parametrize("option,expected", [
    ("-Xss1m", ("-Xss", "1m", True)),
    ("-XX:-UseParallelGC", ("-XX:-UseParallelGC", "on", True)),
    ("-XX:MaxMetaspaceSize=256m", ("-XX:MaxMetaspaceSize", "256m", True)),
    ("-Dflag", ("-Dflag", "", True)),
    ("-javaagent:/opt/agent.jar", ("-javaagent", "/opt/agent.jar", False)),
    ("-verbose", ("-verbose", "on", True)),
])
def test_jvm_option_key(option, expected):
    assert hb.jvm_option_key(option) == expected


def test_redis_conf_keeps_repeated_directives():
    d = hb.parse_redis(fixture("redis.conf"))
    assert d["bind"] == "127.0.0.1 10.231.10.31"
    assert d["save"] == ["", "900 1"]
    assert d["logfile"] == ""
    assert d["include"] == "/etc/preview-cache/replication.conf"
    assert d["maxmemory"] == "64mb"


def test_sentinel_conf_keys_per_master():
    d = hb.parse_redis(fixture("sentinel.conf"))
    assert d["sentinel monitor preview-cache"] == "10.231.10.31 6379 2"
    assert d["sentinel down-after-milliseconds preview-cache"] == "5000"
    assert d["sentinel known-replica preview-cache"] == ["10.231.10.32 6379", "10.231.10.33 6379"]
    assert d["sentinel myid"] == "0123456789abcdef0123456789abcdef01234567"
    assert d["dir"] == "/var/lib/preview-cache"  # quotes removed


def test_properties():
    d = hb.parse_properties(fixture("preview.properties"))
    assert d["kind"] == "yozo_preview"
    assert d["cache_sentinels"] == "10.231.10.31:26379,10.231.10.32:26379,10.231.10.33:26379"
    assert d["font_family"] == "SimSun"
    assert "! bang comment" not in d


def test_limits_and_sysctl():
    assert hb.parse_limits(fixture("limits.conf")) == {
        "kingbase - nofile": "20000", "kingbase - nproc": "20000", "@dba soft core": "unlimited"}
    assert hb.parse_sysctl(fixture("sysctl.conf")) == {
        "fs.aio-max-nr": "1048576", "kernel.sem": "250 32000 100 128", "net.core.somaxconn": "1024",
        "vm.swappiness": "10"}


def test_sshd_config():
    d = hb.parse_sshd(fixture("sshd_config"))
    assert d["maxauthtries"] == "4"  # first value counts, as sshd reads it
    assert d["acceptenv"] == ["LANG LC_*", "XMODIFIERS"]
    assert d["match User backup Address 10.0.0.0/8/passwordauthentication"] == "no"
    assert d["passwordauthentication"] == "yes"
    assert d["x11forwarding"] == "no"  # after 'Match all', keyword=value form
    assert hb.parse_sshd("Subsystem\tsftp\t/usr/lib/openssh/sftp-server\n") == hb.parse_sshd(
        "Subsystem sftp /usr/lib/openssh/sftp-server\n")  # tabs or spaces: the same setting


def test_kv_space_chrony():
    d = hb.parse_kv_space("server 10.0.0.1 iburst\nserver  10.0.0.2\tiburst\nmakestep 1.0 3\nrtcsync\n")
    assert d == {"server": ["10.0.0.1 iburst", "10.0.0.2 iburst"], "makestep": "1.0 3", "rtcsync": ""}


def test_sshd_effective():
    d = hb.parse_sshd_effective("port 22\npermitrootlogin without-password\nacceptenv LANG\nacceptenv LC_*\n")
    assert d == {"port": "22", "permitrootlogin": "without-password", "acceptenv": ["LANG", "LC_*"]}


def test_crontab():
    d = hb.parse_crontab(fixture("crontab.kingbase"))
    assert d["job kbha keep-alive (role kingbase_cluster)"].startswith("*/1 * * * * . /etc/profile; ")
    assert d["cmd /usr/local/bin/cleanup.sh"] == "30 2 * * 0"
    assert d["cmd /usr/local/bin/on-boot.sh"] == "@reboot"
    assert d["env MAILTO"] == ""
    assert not any("DO NOT EDIT" in k for k in d)


def test_systemd_unit():
    d = hb.parse_systemd(fixture("kingbased.service"))
    assert d["Service.User"] == "kingbase"
    assert d["Service.ExecStartPre"] == ["/bin/true", "/bin/echo pre"]
    assert d["Service.Environment"][0] == "KINGBASE_DATA=/opt/Kingbase/ES/V8/data"
    assert d["Install.WantedBy"] == "multi-user.target"
    assert hb.parse_systemd("[Service]\nExecStart=/a\nExecStart=\nExecStart=/b\n") == {"Service.ExecStart": "/b"}


def test_ini_with_systemd_parser():
    d = hb.parse_systemd(fixture("sys_rman.conf"))
    assert d["global.repo1-host"] == "10.231.10.51"
    assert d["city_a.kb1-port"] == "54321"


def test_lines_and_version():
    assert hb.parse_lines("# x\nkingbase ALL=(root) NOPASSWD: /usr/bin/systemctl start kingbased\n") == {
        "kingbase ALL=(root) NOPASSWD: /usr/bin/systemctl start kingbased": "present"}
    assert hb.parse_version("\n9.5.5.7300\n") == {"version": "9.5.5.7300"}


@pytest.mark.parametrize("fmt,name", [
    ("kv", "kingbase.conf"), ("hba", "sys_hba.conf"), ("xml", "server.xml"), ("jvm_options", "jvm.options"),
    ("redis", "redis.conf"), ("redis", "sentinel.conf"), ("properties", "preview.properties"),
    ("crontab", "crontab.kingbase"), ("systemd", "kingbased.service"), ("systemd", "sys_rman.conf"),
    ("kv", "repmgr.conf"), ("sshd", "sshd_config"),
])
def test_no_secret_survives_redaction(fmt, name):
    data, hidden = redacted(hb.normalise(hb.parse(fmt, fixture(name))))
    text = json.dumps(data)
    for canary in CANARIES:
        assert canary not in text, (canary, name)


def test_redaction_keeps_settings_that_only_mention_passwords():
    data, hidden = redacted(hb.parse_kv(fixture("kingbase.conf")))
    assert data["password_encryption"] == "scram-sha-256"
    data, hidden = redacted(hb.parse_sshd(fixture("sshd_config")))
    assert data["passwordauthentication"] == "yes" and data["pubkeyauthentication"] == "yes"
    assert data["hostkey"] == "/etc/ssh/ssh_host_ed25519_key"
    assert hidden == []


def test_redaction_names_the_keys_and_hides_everything_of_the_value():
    data, hidden = redacted(hb.parse_redis(fixture("redis.conf")))
    assert data["requirepass"] == hb.REDACTED and data["masterauth"] == hb.REDACTED
    assert hidden == ["masterauth", "requirepass"]
    data, hidden = redacted(hb.parse_systemd(fixture("kingbased.service")))
    assert data["Service.Environment"] == hb.REDACTED  # one of its values carries a secret


def test_crontab_secret_in_the_command_is_not_left_in_the_key():
    # The key of an unlabelled entry is its command: a secret there would survive value redaction.
    data, hidden = redacted(hb.normalise(hb.parse_crontab(fixture("crontab.kingbase"))))
    assert "canary-cron-pw" not in json.dumps(data)
    assert data["cmd <redacted> /usr/bin/psql -c 'vacuum'"] == hb.REDACTED
    assert hb.mask_text("a url=jdbc://u:p@h/db b", hb.compile_patterns(hb.DEFAULT_REDACT_VALUES)) == "a <redacted> b"


@pytest.mark.parametrize("text", [
    "*/1 * * * * . /etc/profile; /opt/kb/bin/kbha -A daemon -f /opt/kb/etc/repmgr.conf >> /opt/kb/log/kbha.log 2>&1",
    "kingbase ALL=(root) NOPASSWD: /usr/bin/systemctl start kingbased",
    "0 1 * * * /usr/local/bin/job >/dev/null 2>&1",
])
def test_shell_redirections_and_nopasswd_are_not_secrets(text):
    data, hidden = redacted({"entry": text, text: "present"})
    assert data == {"entry": text, text: "present"} and hidden == []


def test_redis_acl_password_is_a_secret():
    data, hidden = redacted({"user": "app on >s3cret ~preview:* +@read"})
    assert data == {"user": hb.REDACTED}


@pytest.mark.parametrize("key", [
    "keystorePass", "truststorePass", "dbPassword", "keyPass", "keyPassPhrase", "KB_PASS", "kb.pass",
    "/Server/Service[@name='bes']/Connector/@keystorePass", "/Server/Service/Connector/@truststorePass",
    "apikey", "apiKey", "api_key", "API-KEY", "accessKey", "auth_token", "clientSecret",
])
def test_camel_case_and_api_keys_are_secrets(key):
    data, hidden = redacted({key: "canary-key-value"})
    assert data == {key: hb.REDACTED} and hidden == [key]


@pytest.mark.parametrize("key", [
    "password_encryption", "passwordauthentication", "PasswordAuthentication", "permitemptypasswords",
    "pubkeyauthentication", "PubkeyAuthentication", "hostkey", "HostKey", "HostKeyAlgorithms", "keyAlias",
    "certificateKeyFile", "bypass", "compass", "passive_mode",
    "PASS_MAX_DAYS", "PASS_MIN_DAYS", "PASS_WARN_AGE", "PASS_MIN_LEN",  # login.defs password aging
])
def test_keys_that_only_look_like_secrets_stay_visible(key):
    data, hidden = redacted({key: "visible"})
    assert data == {key: "visible"} and hidden == []


def test_xml_name_value_pairs_with_a_secret_name():
    single = hb.parse_xml('<bean><property name="password" value="canary-xml-1"/></bean>')
    assert single["/bean/property/@value"] == "canary-xml-1"  # key alone does not say it is a secret
    data, hidden = redacted(single)
    assert data == {"/bean/property/@name": "password", "/bean/property/@value": hb.REDACTED}
    assert hidden == ["/bean/property/@value"]
    hadoop = hb.parse_xml(
        "<configuration>"
        "<property><name>jdbc.url</name><value>jdbc:kingbase8://10.231.10.11:54321/huaian</value></property>"
        "<property><name>jdbc.password</name><value>canary-xml-2</value><description>db</description></property>"
        "<property><name>password_encryption</name><value>scram-sha-256</value></property>"
        "</configuration>")
    data, hidden = redacted(hadoop)
    assert data["/configuration/property[2]/name/text()"] == "jdbc.password"
    assert data["/configuration/property[2]/value/text()"] == hb.REDACTED
    assert data["/configuration/property[2]/description/text()"] == hb.REDACTED
    assert data["/configuration/property[1]/value/text()"] == "jdbc:kingbase8://10.231.10.11:54321/huaian"
    assert data["/configuration/property[3]/value/text()"] == "scram-sha-256"  # exempt name: kept
    web = hb.parse_xml("<web-app><context-param><param-name>apiKey</param-name>"
                       "<param-value>canary-xml-3</param-value></context-param></web-app>")
    entry = hb.parse_xml('<map><entry key="db.secret">canary-xml-4</entry></map>')
    spring = hb.parse_xml('<beans><bean><property name="dbPassword"><value>canary-xml-5</value></property></bean></beans>')
    text = json.dumps([redacted(web)[0], redacted(entry)[0], redacted(spring)[0], redacted(hadoop)[0]])
    for canary in ("canary-xml-2", "canary-xml-3", "canary-xml-4", "canary-xml-5"):
        assert canary not in text
    plain = hb.parse_xml('<bean><property name="maxTotal" value="50"/></bean>')
    assert redacted(plain) == (plain, [])


@pytest.mark.parametrize("value", [
    "redis://:canary-url-pw@10.231.10.31:6379/0",
    "jdbc:kingbase8://app:canary-url-pw@10.231.10.11:54321/huaian",
    "KB_PASS=canary-env-pw", "KB_PASSWORD=canary-env-pw", "APIKEY=canary-env-pw", "API_KEY=canary-env-pw",
    "GITHUB_TOKEN=canary-env-pw", "MY_SECRET=canary-env-pw", "X-Api-Key: canary-env-pw",
    "keystorePass=canary-env-pw", "-Ddb.dbPassword=canary-env-pw",
    "keytool -list -storepass canary-env-pw -keystore /x", "cli --password canary-env-pw --verbose",
])
def test_values_carrying_a_secret(value):
    data, hidden = redacted({"Service.Environment": value, "line": value, value: "present"})
    assert "canary" not in json.dumps(data) and data["line"] == hb.REDACTED


@pytest.mark.parametrize("value", [
    "redis://10.231.10.31:6379/0", "http://10.231.10.11:8080/health", "--password-file /etc/kb/.pgpass",
    "kingbase ALL=(root) NOPASSWD: /usr/bin/systemctl start kingbased", "PasswordAuthentication no",
    "cmd >> /var/log/x.log 2>&1", "bypass=on",
])
def test_values_that_carry_no_secret(value):
    assert redacted({"line": value}) == ({"line": value}, [])


def test_quoted_crontab_secret_with_spaces_is_masked_whole():
    text = ("15 3 * * * PGPASSWORD='canary two words' /usr/bin/psql -c 'vacuum'\n"
            '20 3 * * * KB_PASS="canary other pw" API_KEY=canary-k /opt/bin/job --password "canary x y" -v\n')
    data, hidden = redacted(hb.normalise(hb.parse_crontab(text)))
    assert "canary" not in json.dumps(data) and "two words" not in json.dumps(data)
    assert data["cmd <redacted> /usr/bin/psql -c 'vacuum'"] == hb.REDACTED
    assert data["cmd <redacted> <redacted> /opt/bin/job <redacted> -v"] == hb.REDACTED
    assert hb.mask_text("a PGPASSWORD='x y z", hb.compile_patterns(hb.DEFAULT_REDACT_VALUES)) == "a <redacted>"


def test_crontab_label_of_a_disabled_job_does_not_attach_to_the_next_job():
    text = ("#Ansible: nightly vacuum\n"
            "#15 3 * * * /usr/local/bin/vacuum.sh\n"
            "30 2 * * 0 /usr/local/bin/cleanup.sh\n"
            "#Ansible: orphan label\n"
            "# a plain comment\n"
            "@reboot /usr/local/bin/on-boot.sh\n"
            "#Ansible: kept\n"
            "*/5 * * * * /usr/local/bin/kept.sh\n")
    assert hb.parse_crontab(text) == {
        "job nightly vacuum": "disabled: 15 3 * * * /usr/local/bin/vacuum.sh",
        "cmd /usr/local/bin/cleanup.sh": "30 2 * * 0",
        "cmd /usr/local/bin/on-boot.sh": "@reboot",
        "job kept": "*/5 * * * * /usr/local/bin/kept.sh",
    }


def test_custom_patterns():
    data, hidden = hb.redact({"db.user": "app", "db.secret_word": "x"}, hb.compile_patterns([r"user"]), [], [])
    assert data == {"db.user": hb.REDACTED, "db.secret_word": "x"}


def test_accounts_never_read_hashes():
    passwd = "root:x:0:0:root:/root:/bin/bash\nkingbase:x:1001:1001:KingbaseES:/home/kingbase:/bin/bash\n"
    group = "root:x:0:\nkingbase:x:1001:\ncrontab:x:107:kingbase\n"
    d = hb.accounts_baseline(["kingbase", "nobody-here"], passwd, group)
    assert d == {"kingbase.uid": "1001", "kingbase.gid": "1001", "kingbase.home": "/home/kingbase",
                 "kingbase.shell": "/bin/bash", "kingbase.groups": ["crontab", "kingbase"], "nobody-here": "absent"}


def test_package_queries():
    dpkg = "chrony 4.3-2+deb12u1 ii \nopenssh-server 1:9.2p1-2+deb12u3 ii \nold 1.0 rc \n"
    assert hb.packages_baseline(["chrony", "openssh-server", "old", "none"], hb.parse_dpkg_query(dpkg)) == {
        "chrony": "4.3-2+deb12u1", "openssh-server": "1:9.2p1-2+deb12u3", "old": "absent", "none": "absent"}
    rpm = ("chrony (none):4.1-3.ky10.x86_64\nkernel (none):4.19.90-52.x86_64\nkernel (none):4.19.90-53.x86_64\n"
           "package cronie is not installed\n")
    assert hb.parse_rpm_query(rpm) == {"chrony": "4.1-3.ky10.x86_64",
                                       "kernel": "4.19.90-52.x86_64, 4.19.90-53.x86_64"}


class FakeModule:
    def __init__(self, params, commands=None):
        self.params = params
        self.commands = commands or {}
        self.ran = []

    def get_bin_path(self, name, opt_dirs=None):
        return "/usr/bin/" + name if name in self.commands else None

    def run_command(self, args, environ_update=None):
        self.ran.append(args)
        return self.commands[pathlib.Path(args[0]).name]

    def fail_json(self, **kwargs):
        raise AssertionError(kwargs["msg"])


def params(**over):
    base = {"sources": [], "crontab_users": [], "crontab_dirs": [], "packages": [], "accounts": [],
            "sshd_effective": False, "redact_keys": None, "redact_values": None, "redact_exempt": None}
    base.update(over)
    return base


def test_collect_reads_sources_crontabs_packages(tmp_path):
    conf = tmp_path / "redis.conf"
    conf.write_text(fixture("redis.conf"))
    os.chmod(str(conf), 0o640)
    spool = tmp_path / "crontabs"
    spool.mkdir()
    (spool / "kingbase").write_text(fixture("crontab.kingbase"))
    module = FakeModule(params(
        sources=[{"name": "redis.conf", "path": str(conf), "format": "redis"},
                 {"name": "redis.conf", "path": str(conf), "format": "redis"},  # declared twice: read once
                 {"name": "gone", "path": str(tmp_path / "missing.conf"), "format": "kv"}],
        crontab_users=["kingbase", "root"], crontab_dirs=[str(spool)], packages=["redis-server"]),
        {"dpkg-query": (0, "redis-server 5:7.0.15-1~deb12u1 ii \n", "")})
    result = mod.collect(module)
    b = result["baseline"]
    assert b["redis.conf"]["#state"] == "present" and b["redis.conf"]["#mode"] == "0640"
    assert b["redis.conf"]["requirepass"] == hb.REDACTED
    assert b["gone"] == {"#state": "absent"}
    assert b["crontab:root"] == {"#state": "absent"}
    assert b["crontab:kingbase"]["cmd /usr/local/bin/cleanup.sh"] == "30 2 * * 0"
    assert b["packages"] == {"redis-server": "5:7.0.15-1~deb12u1"}
    assert result["summary"]["redis.conf"]["redacted"] == ["masterauth", "requirepass"]
    assert result["key_count"] == sum(len(v) for v in b.values())
    assert "Redis-canary-pw" not in json.dumps(result)
    assert [pathlib.Path(c[0]).name for c in module.ran] == ["dpkg-query"]  # read-only: one query


def test_package_query_that_times_out_is_an_error_not_absent(monkeypatch):
    clock = iter([100.0, 131.0, 200.0, 201.0])
    import huaian_inspect  # the shared command runner times the command
    monkeypatch.setattr(huaian_inspect.time, "monotonic", lambda: next(clock))
    module = FakeModule(params(packages=["chrony", "openssh-server"]), {"timeout": (124, "chrony 4.1 ii \n", ""), "rpm": None})
    assert mod.collect(module)["baseline"]["packages"] == {"#error": "rpm timed out after 30 s"}
    assert module.ran == [["/usr/bin/timeout", "-k", "5", "30", "/usr/bin/rpm", "-q", "--qf",
                           "%{NAME} %{EPOCH}:%{VERSION}-%{RELEASE}.%{ARCH}\n", "chrony", "openssh-server"]]
    # rpm -q exits with the number of names not installed: 124 at once is that, not a timeout.
    module = FakeModule(params(packages=["chrony"]), {"timeout": (124, "chrony (none):4.1-3.ky10.x86_64\n", ""), "rpm": None})
    assert mod.collect(module)["baseline"]["packages"] == {"chrony": "4.1-3.ky10.x86_64"}


RPM_OUT = "chrony (none):4.1-3.ky10.x86_64\n"
DPKG_OUT = "chrony 4.3-2+deb12u1 ii \n"


def exists_only(*paths):
    return lambda path: path in paths


def test_package_tool_whose_database_exists_is_asked_first():
    both = FakeModule(params(), {"rpm": (0, RPM_OUT, ""), "dpkg-query": (1, "", "")})
    # openEuler / UOS with dpkg installed: rpm's database is there, so rpm is asked, and only rpm.
    assert [t for t, _ in mod.package_tools(both, exists_only("/var/lib/rpm"))] == ["rpm", "dpkg-query"]
    assert [t for t, _ in mod.package_tools(both, exists_only("/var/lib/rpm", "/var/lib/dpkg/status"))] == [
        "rpm", "dpkg-query"]
    assert [t for t, _ in mod.package_tools(both, exists_only("/var/lib/dpkg/status"))] == ["dpkg-query", "rpm"]
    assert [t for t, _ in mod.package_tools(both, exists_only("/usr/lib/sysimage/rpm"))] == ["rpm", "dpkg-query"]
    assert mod.installed_packages(both, ["chrony"], exists_only("/var/lib/rpm", "/var/lib/dpkg/status")) == (
        {"chrony": "4.1-3.ky10.x86_64"}, None)
    assert [pathlib.Path(c[0]).name for c in both.ran] == ["rpm"]
    debian = FakeModule(params(), {"rpm": (1, "package chrony is not installed\n", ""), "dpkg-query": (0, DPKG_OUT, "")})
    assert mod.installed_packages(debian, ["chrony"], exists_only("/var/lib/dpkg/status")) == (
        {"chrony": "4.3-2+deb12u1"}, None)
    assert [pathlib.Path(c[0]).name for c in debian.ran] == ["dpkg-query"]


def test_package_query_falls_back_to_the_other_tool_when_the_first_lists_nothing():
    # Both databases present (or neither found): the first tool that lists none of the packages is not the
    # host's; the other one is asked before calling everything absent.
    module = FakeModule(params(), {"rpm": (1, "package chrony is not installed\n", ""), "dpkg-query": (0, DPKG_OUT, "")})
    assert mod.installed_packages(module, ["chrony"], exists_only("/var/lib/rpm", "/var/lib/dpkg/status")) == (
        {"chrony": "4.3-2+deb12u1"}, None)
    assert [pathlib.Path(c[0]).name for c in module.ran] == ["rpm", "dpkg-query"]
    only_rpm = FakeModule(params(), {"rpm": (1, "package chrony is not installed\n", "")})
    assert mod.installed_packages(only_rpm, ["chrony"], exists_only()) == ({}, None)
    with pytest.raises(AssertionError, match="neither dpkg-query nor rpm"):
        mod.installed_packages(FakeModule(params()), ["chrony"], exists_only())


def test_collect_refuses_one_name_for_two_files(tmp_path):
    module = FakeModule(params(sources=[{"name": "x", "path": "/a", "format": "kv"},
                                        {"name": "x", "path": "/b", "format": "kv"}]))
    with pytest.raises(AssertionError, match="declared twice"):
        mod.collect(module)


def test_collect_sshd_effective():
    module = FakeModule(params(sshd_effective=True), {"sshd": (0, "port 22\nacceptenv LANG\n", "")})
    assert mod.collect(module)["baseline"]["sshd -T"] == {"port": "22", "acceptenv": "LANG"}


HOST_SIDE = [ROOT / "plugins" / "modules" / "config_baseline.py", ROOT / "plugins" / "module_utils" / "huaian_baseline.py"]


@pytest.mark.parametrize("path", HOST_SIDE, ids=lambda p: p.name)
def test_host_side_files_parse_as_python_3_7(path):
    ast.parse(path.read_text(), filename=str(path), feature_version=(3, 7))


def run_main(monkeypatch, capsys, args):
    return run_module_main(mod, monkeypatch, capsys, args)


def test_declaration_reads_what_the_four_options_read(monkeypatch, capsys, tmp_path):
    conf = tmp_path / "redis.conf"
    conf.write_text(fixture("redis.conf"))
    sources = [{"name": "redis.conf", "path": str(conf), "format": "redis"}]
    spelled = run_main(monkeypatch, capsys, {"_ansible_check_mode": True, "sources": sources, "accounts": ["root"]})
    whole = run_main(monkeypatch, capsys, {"_ansible_check_mode": True,
                                           "declaration": {"sources": sources, "accounts": ["root"]}})
    assert not whole.get("failed") and whole["changed"] is False
    assert whole["baseline"] == spelled["baseline"] and set(whole["baseline"]) == {"redis.conf", "accounts"}


def test_declaration_with_one_of_the_four_options_is_refused(monkeypatch, capsys):
    result = run_main(monkeypatch, capsys, {"declaration": {"accounts": ["root"]}, "packages": ["chrony"]})
    assert result["failed"] and "declaration" in result["msg"] and "packages" in result["msg"]


def test_declaration_sources_are_validated_like_sources(monkeypatch, capsys):
    result = run_main(monkeypatch, capsys, {"declaration": {"sources": [{"name": "x", "path": "/etc/x", "format": "yaml"}]}})
    assert result["failed"] and "yaml" in result["msg"]


def test_declared_params_fill_what_is_left_out():
    assert mod.declared_params({"accounts": ["kingbase"], "packages": None}) == {
        "sources": [], "crontab_users": [], "packages": [], "accounts": ["kingbase"]}


def test_short_secret_key_names_are_redacted_and_their_neighbours_kept():
    text = ("db.pw=canary-db-pw\nredis.auth=canary-redis-auth\nuser_pw = canary-user-pw\nauth=canary-auth\n"
            "db.pwm.size=8\nauthor=someone\nauth_basic_realm=ops\n")
    data, hidden = redacted(hb.parse_properties(text))
    assert "canary" not in json.dumps(data)
    assert sorted(hidden) == ["auth", "db.pw", "redis.auth", "user_pw"]
    assert data["db.pwm.size"] == "8" and data["author"] == "someone" and data["auth_basic_realm"] == "ops"
