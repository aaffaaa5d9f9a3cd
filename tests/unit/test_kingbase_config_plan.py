"""Where a settings change lands on a vendor-installed Kingbase cluster (kingbase_config_filters)."""
import kingbase_config_filters as kc

DATA = "/home/kingbase/cluster/kingbase/data"
CONF = DATA + "/kingbase.conf"
ES_REP = DATA + "/es_rep.conf"
AUTO = DATA + "/kingbase.auto.conf"
MARKER = "# {mark} huaian-platform-ops kingbase_settings (role kingbase)"
BEGIN, END = MARKER.replace("{mark}", "BEGIN"), MARKER.replace("{mark}", "END")
VENDOR_LIBS = "liboracle_parser, synonym, plsql, sys_stat_statements, repmgr"


def row(seqno, line, name, file, setting, applied=True, error=False):
    return "%d|%d|%s|%s|%s|%s|%s" % (seqno, line, "t" if applied else "f", "t" if error else "f", name, file, setting)


def vendor_rows(extra=()):
    """kingbase.conf (ending with the include), es_rep.conf, kingbase.auto.conf as the vendor leaves them."""
    rows = [
        row(1, 65, "max_connections", CONF, "100", applied=False),
        row(2, 822, "max_connections", CONF, "200"),
        row(3, 823, "shared_buffers", CONF, "64MB", applied=False),
        row(4, 838, "shared_preload_libraries", CONF, VENDOR_LIBS),
        row(5, 839, "work_mem", CONF, "4MB"),
        row(6, 3, "shared_buffers", ES_REP, "128MB"),
        row(7, 10, "archive_command", ES_REP, "sys_rman archive-push %p"),
        row(8, 3, "primary_conninfo", AUTO, "host=10.231.30.11"),
    ]
    return rows + list(extra)


VENDOR_TEXTS = {CONF: "# vendor\nwork_mem = 4MB\ninclude_if_exists = 'es_rep.conf'\n",
                ES_REP: "shared_buffers = 128MB\narchive_command = 'sys_rman archive-push %p'\n"}


def plan(rows=None, texts=None, desired=None, required=("repmgr",), method="file"):
    return kc.kingbase_config_plan(vendor_rows() if rows is None else rows, VENDOR_TEXTS if texts is None else texts,
                                   desired or {}, list(required), method, MARKER)


def test_conf_values_render_as_the_server_reads_them():
    assert kc.kingbase_conf_value(64) == "64"
    assert kc.kingbase_conf_value(True) == "on"
    assert kc.kingbase_conf_value("16MB") == "'16MB'"
    assert kc.kingbase_conf_value("it's") == "'it''s'"
    assert kc.kingbase_conf_block({"work_mem": "16MB", "max_locks_per_transaction": 96}) == (
        "max_locks_per_transaction = 96\nwork_mem = '16MB'")


def test_a_new_block_goes_to_the_last_file_the_server_reads_before_auto_conf():
    p = plan(desired={"work_mem": "16MB", "max_locks_per_transaction": 96})
    assert p["problems"] == []
    assert p["target"] == ES_REP
    assert p["block"] == {"work_mem": "16MB", "max_locks_per_transaction": 96}
    assert p["alter_system"] == {}
    assert p["changes"] == [{"name": "max_locks_per_transaction", "before": None, "after": "96", "where": ES_REP},
                            {"name": "work_mem", "before": "4MB", "after": "16MB", "where": ES_REP}]
    assert p["chain"] == [CONF, ES_REP, AUTO]


def test_the_vendors_preload_list_is_kept_and_repmgr_not_added_twice():
    p = plan(desired={"work_mem": "16MB"})
    assert "shared_preload_libraries" not in p["block"]
    p = plan(desired={"work_mem": "16MB"}, required=("repmgr", "sys_audlog"))
    assert p["block"]["shared_preload_libraries"] == VENDOR_LIBS + ", sys_audlog"
    assert p["changes"][0]["name"] == "shared_preload_libraries"


def test_an_explicit_preload_setting_is_merged_not_replaced():
    p = plan(desired={"shared_preload_libraries": "pg_stat_kcache, repmgr"})
    assert p["block"]["shared_preload_libraries"] == VENDOR_LIBS + ", pg_stat_kcache"
    p = plan(desired={"shared_preload_libraries": ["repmgr"]})
    assert "shared_preload_libraries" not in p["block"]


def test_a_second_run_sees_its_own_block_and_plans_the_same_block_without_changes():
    block_rows = [row(9, 3, "max_locks_per_transaction", ES_REP, "96"), row(10, 4, "work_mem", ES_REP, "16MB")]
    rows = vendor_rows()[:-1] + block_rows + [row(11, 3, "primary_conninfo", AUTO, "host=10.231.30.11")]
    texts = dict(VENDOR_TEXTS)
    texts[ES_REP] += "%s\nmax_locks_per_transaction = 96\nwork_mem = '16MB'\n%s\n" % (BEGIN, END)
    p = plan(rows=rows, texts=texts, desired={"work_mem": "16MB", "max_locks_per_transaction": 96})
    assert p["problems"] == []
    assert p["block"] == {"work_mem": "16MB", "max_locks_per_transaction": 96}
    assert p["changes"] == []
    # The vendor's value is still what is outside the block: the record of what the change replaced.
    assert p["vendor"] == {"max_locks_per_transaction": None, "work_mem": "4MB"}


def test_a_merged_preload_list_stays_in_the_block_and_follows_the_vendors_list():
    rows = vendor_rows()[:-1] + [row(9, 3, "shared_preload_libraries", ES_REP, VENDOR_LIBS + ", sys_audlog")]
    texts = dict(VENDOR_TEXTS)
    texts[ES_REP] += "%s\nshared_preload_libraries = '%s, sys_audlog'\n%s\n" % (BEGIN, VENDOR_LIBS, END)
    p = plan(rows=rows, texts=texts, required=("repmgr", "sys_audlog"))
    assert p["block"] == {"shared_preload_libraries": VENDOR_LIBS + ", sys_audlog"}
    assert p["changes"] == []
    # repmgr alone is in the vendor's list: the block still holds the (unchanged) merged list, no change.
    p = plan(rows=rows, texts=texts)
    assert p["block"] == {"shared_preload_libraries": VENDOR_LIBS}
    assert p["changes"] == [{"name": "shared_preload_libraries", "before": VENDOR_LIBS, "after": VENDOR_LIBS,
                             "where": ES_REP}]


def test_an_existing_block_stays_where_it_is():
    rows = vendor_rows() + [row(20, 900, "work_mem", CONF, "16MB")]
    texts = dict(VENDOR_TEXTS)
    texts[CONF] = "# vendor\n" + "\n" * 897 + "%s\nwork_mem = '16MB'\n%s\n" % (BEGIN, END)
    p = plan(rows=rows, texts=texts, desired={"work_mem": "16MB"})
    assert p["target"] == CONF
    assert p["problems"] == []


def test_a_setting_from_alter_system_is_refused_in_file_mode_and_set_in_alter_system_mode():
    rows = vendor_rows([row(9, 4, "work_mem", AUTO, "8MB")])
    p = plan(rows=rows, desired={"work_mem": "16MB"})
    assert p["block"] == {}
    assert len(p["problems"]) == 1
    assert p["problems"][0].startswith("work_mem is set in %s line 4 (ALTER SYSTEM)" % AUTO)
    assert "kingbase_settings_method: alter_system" in p["problems"][0]
    p = plan(rows=rows, desired={"work_mem": "16MB"}, method="alter_system")
    assert p["problems"] == []
    assert p["alter_system"] == {"work_mem": "16MB"}
    assert p["block"] == {}
    rows = vendor_rows([row(9, 4, "work_mem", AUTO, "16MB")])
    assert plan(rows=rows, desired={"work_mem": "16MB"}, method="alter_system")["alter_system"] == {}


def test_a_vendor_line_read_after_the_block_is_a_problem_naming_the_line():
    rows = vendor_rows()
    texts = dict(VENDOR_TEXTS)
    texts[ES_REP] += "%s\nwork_mem = '16MB'\n%s\nwork_mem = 2MB\n" % (BEGIN, END)
    rows = rows[:-1] + [row(9, 4, "work_mem", ES_REP, "16MB", applied=False), row(10, 6, "work_mem", ES_REP, "2MB"),
                        rows[-1]]
    p = plan(rows=rows, texts=texts, desired={"work_mem": "16MB"})
    assert p["problems"] == ["work_mem is set again in %s line 6, read after the managed block in %s: the block "
                             "cannot take effect; remove or comment out that line (it is the vendor's file: record it "
                             "in the change), then run again" % (ES_REP, ES_REP)]


def test_unreadable_lines_and_two_blocks_are_problems():
    rows = vendor_rows([row(9, 12, "", ES_REP, "", applied=False, error=True)])
    texts = {CONF: "%s\n%s\n" % (BEGIN, END), ES_REP: "%s\n%s\n" % (BEGIN, END)}
    p = plan(rows=rows, texts=texts, desired={"work_mem": "16MB"})
    assert p["problems"][:2] == [
        "%s line 12: the server cannot read this line (syntax); mend the file before any change" % ES_REP,
        "a managed block is in %s and %s: keep one (remove the others by hand), then run again" % (ES_REP, CONF)]


def test_landed_checks_the_source_file_of_each_managed_setting():
    p = {"target": ES_REP, "block": {"work_mem": "16MB", "max_locks_per_transaction": 96}, "alter_system": {"wal_keep_size": "1GB"}}
    good = ["work_mem|%s|f" % ES_REP, "max_locks_per_transaction|%s|f" % ES_REP, "wal_keep_size|%s|f" % AUTO]
    assert kc.kingbase_settings_landed(good, p) == []
    bad = ["work_mem|%s|f" % CONF, "max_locks_per_transaction|%s|t" % ES_REP]
    assert kc.kingbase_settings_landed(bad, p) == [
        "work_mem comes from %s, not from %s: the change did not take effect" % (CONF, ES_REP),
        "max_locks_per_transaction waits for a restart (pending_restart)",
        "wal_keep_size: the server does not report it (sys_settings)"]


def test_slurped_files_are_read_and_auto_conf_is_not_a_file_to_write():
    import base64
    slurped = [{"item": ES_REP, "content": base64.b64encode(("%s\nwork_mem = '16MB'\n%s\n" % (BEGIN, END)).encode()).decode()},
               {"item": CONF, "content": None, "failed": True}]
    rows = vendor_rows()[:-1] + [row(9, 2, "work_mem", ES_REP, "16MB")]
    p = kc.kingbase_config_plan(rows, slurped, {"work_mem": "16MB"}, ["repmgr"], "file", MARKER)
    assert p["target"] == ES_REP and p["changes"] == [] and p["problems"] == []
    assert kc.kingbase_config_files(vendor_rows()) == [CONF, ES_REP]


def test_settings_inputs_problems_name_the_variable_the_value_and_what_is_allowed():
    assert kc.kingbase_settings_problems({"work_mem": "16MB", "pg_stat_kcache.track": "all"}, "block", "kbha", True) == []
    problems = kc.kingbase_settings_problems({"work_mem; drop table x": 1}, "block", "kbha", False)
    assert len(problems) == 2
    assert problems[0].startswith("kingbase_settings key 'work_mem; drop table x' : not a parameter name")
    assert problems[1].startswith("kingbase_config_ownership = block : this host has no discovery facts")
    assert kc.kingbase_settings_problems({}, "whole", "kbha", True) == [
        "kingbase_control = kbha with kingbase_config_ownership = whole : the role would rewrite the vendor's kingbase.conf "
        "whole; allowed: block for a cluster kbha runs"]
    assert kc.kingbase_settings_problems({}, "whole", "systemd", False) == []


def test_a_setting_left_waiting_for_a_restart_is_no_problem_when_the_role_may_not_restart():
    p = {"target": ES_REP, "block": {"max_locks_per_transaction": 96}, "alter_system": {}}
    waiting = ["max_locks_per_transaction|%s|t" % ES_REP]
    assert kc.kingbase_settings_landed(waiting, p, restarted=False) == []
    assert kc.kingbase_settings_landed(waiting, p) == ["max_locks_per_transaction waits for a restart (pending_restart)"]
