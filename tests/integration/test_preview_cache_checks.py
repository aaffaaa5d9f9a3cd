"""The preview cache's shipped health check (roles/preview_cache, entry point verify, with its topology reads)
against a Redis and a Sentinel speaking RESP on the controller's loopback: the reads go through the cache_query
module, so the password never appears in a task's environment, a command line or the output."""
import os
import socketserver
import subprocess
import threading

import pytest
import yaml

from conftest import ROOT

pytestmark = pytest.mark.integration
BIN = ROOT / ".venv" / "bin"
CANARY = "Cache-Canary-Pw-5e1d9"


def bulk(text):
    data = text.encode()
    return b"$%d\r\n%s\r\n" % (len(data), data)


def array(items):
    return b"*%d\r\n" % len(items) + b"".join(bulk(str(i)) for i in items)


class Node(object):
    """Answers whole commands ('CONFIG GET MAXMEMORY') from replies; AUTH first unless password is None."""

    def __init__(self, replies, password):
        node = self
        self.received = []

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                authed = password is None
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    args = []
                    for _ in range(int(line[1:-2])):
                        size = int(self.rfile.readline()[1:-2])
                        args.append(self.rfile.read(size + 2)[:-2].decode())
                    node.received.append(args[0].upper())
                    if args[0].upper() == "AUTH":
                        authed = password is not None and args[-1] == password
                        self.wfile.write(b"+OK\r\n" if authed else b"-WRONGPASS invalid username-password pair\r\n")
                    elif not authed:
                        self.wfile.write(b"-NOAUTH Authentication required.\r\n")
                    elif args[0].upper() == "PING":
                        self.wfile.write(b"+PONG\r\n")
                    else:
                        self.wfile.write(replies.get(" ".join(args).upper(), b"-ERR unknown command\r\n"))

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def cache_node():
    made = []

    def make(redis_password=CANARY):
        redis = Node({"INFO REPLICATION": bulk("# Replication\r\nrole:master\r\nconnected_slaves:0\r\n"),
                      "CONFIG GET MAXMEMORY": array(["maxmemory", str(64 * 1048576)]),
                      "CONFIG GET MAXMEMORY-POLICY": array(["maxmemory-policy", "allkeys-lru"])}, redis_password)
        sentinel = Node({"SENTINEL GET-MASTER-ADDR-BY-NAME PREVIEW-CACHE": array(["127.0.0.1", str(redis.port)]),
                         "SENTINEL MASTER PREVIEW-CACHE": array(["name", "preview-cache", "ip", "127.0.0.1", "flags", "master",
                                                                 "num-slaves", "0", "num-other-sentinels", "0"])}, CANARY)
        made.extend([redis, sentinel])
        return redis, sentinel
    yield make
    for node in made:
        node.close()


def run_verify(tmp_path, redis, sentinel):
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {"preview_cache": {"hosts": {"cache-a": {
        "ansible_connection": "local", "ansible_become": False,
        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "preview_cache_address": "127.0.0.1", "preview_cache_port": redis.port,
        "preview_cache_sentinel_port": sentinel.port, "preview_cache_maxmemory_mb": 64,
        "vault_preview_cache_password": CANARY}}}}}}))
    (tmp_path / "check.yml").write_text(yaml.safe_dump([{
        "name": "Check the cache", "hosts": "preview_cache", "gather_facts": False,
        "tasks": [{"name": "Verify", "ansible.builtin.include_role": {"name": "preview_cache", "tasks_from": "verify"}}]}]))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               HUAIAN_RECORDS_DIR=str(tmp_path / "records"))
    env.pop("HUAIAN_ARA", None)
    return subprocess.run([str(BIN / "ansible-playbook"), "-i", str(tmp_path / "hosts.yml"), str(tmp_path / "check.yml"),
                           "-vv"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_a_healthy_node_passes_and_the_password_stays_out_of_the_output(cache_node, tmp_path):
    redis, sentinel = cache_node()
    res = run_verify(tmp_path, redis, sentinel)
    assert res.returncode == 0, res.stdout[-4000:]
    out = " ".join(res.stdout.split())
    assert "cache-a: master in preview-cache (master 127.0.0.1, 1 sentinels agree); maxmemory 64 MB allkeys-lru" in out
    assert CANARY not in res.stdout + res.stderr
    assert "REDISCLI_AUTH" not in res.stdout
    # Authenticated reads, and one PING without AUTH (refused: NOAUTH).
    assert redis.received.count("AUTH") == 3 and redis.received.count("PING") == 1
    assert sentinel.received == ["AUTH", "SENTINEL", "AUTH", "SENTINEL"]


def test_a_node_that_answers_without_a_password_is_reported(cache_node, tmp_path):
    redis, sentinel = cache_node(redis_password=None)
    res = run_verify(tmp_path, redis, sentinel)
    assert res.returncode != 0
    assert "cache-a: an unauthenticated client was not refused: PONG" in " ".join(res.stdout.split())
    assert CANARY not in res.stdout + res.stderr
