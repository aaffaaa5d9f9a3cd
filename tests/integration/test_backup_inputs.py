"""backup_deploy.yml refuses bad backup inputs before changing anything (controller-local hosts)."""
import pytest

from test_kingbase_inputs import refused_before_any_change

pytestmark = pytest.mark.integration


def test_bad_backup_inputs_are_all_refused_before_any_change():
    failed = refused_before_any_change("tests/fixtures/inventories/backup_bad", "playbooks/backup_deploy.yml",
                                       "Check the backup inputs of every host before changing any",
                                       ["Keys", "Backup hosts", "Kingbase hosts", "Attachment hosts"])
    kb = " ".join(failed["kb-bad"])
    for expected in [
        "kb-bad: kingbase_backup_methods contains tape: allowed are sys_rman and sys_dump",
        'kb-bad: kingbase_backup_host (platform_backup_host) = "kb-bad": must name a host of the backup_server or backup_appliance group',
        "kb-bad: kingbase_backup_cipher_pass (vault_kingbase_backup_cipher_pass) is missing",
        "kb-bad: kingbase_archive_mode = False: sys_rman backups need WAL archiving on (true)",
        'kb-bad: kingbase_archive_command = "": must run sys_rman --config=/etc/sys_rman/sys_rman.conf --stanza=bad archive-push',
        "kb-bad: kingbase_backup_dump_passphrase (vault_kingbase_backup_dump_passphrase) is missing",
        "kb-bad: kingbase_backup_databases is empty",
    ]:
        assert expected in kb, expected
    files = " ".join(failed["files-bad"])
    for expected in [
        'files-bad: file_backup_paths contains "data/attachments": absolute paths only',
        'files-bad: file_backup_host (platform_backup_host) = "kb-bad": must name a host of the backup_server',
        "files-bad: file_backup_password (vault_file_backup_restic_password) is missing",
        'files-bad: file_backup_keep_within = "three months": a restic duration such as 92d',
    ]:
        assert expected in files, expected
