"""tools/molecule_digest.py: the few lines make molecule-all prints last, naming why a scenario failed."""
import pathlib

from conftest import load_script

md = load_script("molecule_digest", pathlib.Path(__file__).resolve().parents[2] / "tools" / "molecule_digest.py")

F = "  \x1b[2m\x1b[32m\u2502\x1b[0m "  # molecule's frame, coloured
LOG = [
    "\x1b[36mINFO    \x1b[0m \x1b[32mfailover\x1b[0m \u279c \x1b[33mverify\x1b[0m: \x1b[36mExecuting\x1b[0m",
    F + "PLAY [The drill] ****",
    F + "TASK [Clear an earlier drill's samples] ****",
    F + "fatal: [fo-kb1]: FAILED! => ",
    F + "    msg: 'not this one'",
    F + "...ignoring",
    F + "",
    F + "TASK [kingbase : Validating arguments against arg spec 'state' - Load the",
    F + "  role's variables] ***",
    F + "\x1b[0;31mfatal: [fo-kb2]: FAILED! => \x1b[0m",
    F + "\x1b[0;31m    msg: 'Wait until repmgrd has promoted the standby: ''f'' never\x1b[0m",
    F + "\x1b[0;31m      came'\x1b[0m",
    F + "\x1b[0;31m    rc: 2\x1b[0m",
    F + "",
    F + 'failed: [fo-kb1] (item=x) => {"changed": false, "msg": "a \\"quoted\\" word"}',
    "\x1b[32mfailover\x1b[0m \u279c \x1b[33mverify\x1b[0m: \x1b[31mExecuted: Failed\x1b[0m (Ansible return code was 2)",
]


def test_each_failure_not_ignored_is_named_by_step_play_task_and_host_with_its_message():
    found = md.digest(LOG)
    assert found == [
        ("verify", "The drill", "kingbase : Validating arguments against arg spec 'state' - Load the role's variables",
         "fo-kb2", "Wait until repmgrd has promoted the standby: 'f' never came"),
        ("verify", "The drill", "kingbase : Validating arguments against arg spec 'state' - Load the role's variables",
         "fo-kb1", 'a "quoted" word'),
    ]


def test_the_rendering_names_the_failed_step_and_cuts_long_messages():
    rows = md.render("failover.log", LOG, width=20, limit=1)
    assert rows[0] == "failover.log: failed at verify"
    assert rows[1].endswith("on fo-kb1") and rows[2] == '    a "quoted" word'
    rows = md.render("failover.log", LOG, width=10, limit=2)
    assert rows[2] == "    Wait until \u2026"


def test_a_log_without_a_failed_task_says_so():
    rows = md.render("x.log", ["PLAY [p] ***", "ok: [h]"], width=50, limit=3)
    assert rows == ["x.log: no failed molecule step", "  (no failed task in the log: see its end)"]


def test_an_ansible_error_outside_a_task_is_kept():
    assert md.digest(["ERROR! the role 'kingbase' was not found"]) == [("", "", "", "", "the role 'kingbase' was not found")]


def test_a_failed_command_that_ran_a_playbook_shows_the_playbooks_own_failure():
    log = [
        F + "TASK [Run playbooks/kingbase_rejoin.yml -e rejoin_node=fo-kb1] ****",
        F + "fatal: [localhost]: FAILED! => ",
        F + "    msg: non-zero return code",
        F + "    rc: 2",
        F + "    stdout: |-",
        F + "      TASK [kingbase_cluster : Rewind] ***",
        F + "      fatal: [fo-kb1]: FAILED! => {\"changed\": true, \"msg\": \"sys_rewind: source server must not be in recovery\"}",
        F + "",
        F + "      PLAY RECAP ****",
        F + "TASK [next] ***",
        F + "fatal: [other]: FAILED! => {\"msg\": \"unrelated\"}",
    ]
    found = md.digest(log)
    assert found[0][2:] == ("Run playbooks/kingbase_rejoin.yml -e rejoin_node=fo-kb1", "localhost",
                            'non-zero return code | inside: fatal: [fo-kb1]: FAILED! => {"changed": true, '
                            '"msg": "sys_rewind: source server must not be in recovery"}')
    assert found[1][3:] == ("other", "unrelated")
