#!/usr/bin/python
# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cache_query
short_description: Read-only Redis or Sentinel commands on one cache node, the password as a no_log parameter
description:
  - Speaks the Redis protocol directly over a socket, so the cache password is never on a command line nor in
    the C(environment) of a become task (sudo writes both to the journal), as C(redis-cli) with C(REDISCLI_AUTH)
    would need.
  - Sends only reads, from an allow-list (C(PING), C(INFO), C(ROLE), C(DBSIZE), C(CONFIG GET), C(CLUSTER INFO),
    C(CLUSTER NODES), C(SENTINEL) C(get-master-addr-by-name), C(master), C(masters), C(replicas), C(slaves),
    C(sentinels), C(ckquorum)); any other command fails the task before anything is sent.
  - All commands run on one connection, authenticated first unless I(authenticate=false) (to prove that an
    unauthenticated client is refused). An unreachable node or an error reply is a result, never a failure.
  - Read-only; safe in check mode. Runs on Python 3.7 (Kylin V10), standard library only.
version_added: "0.1.0"
author: huaian-platform-ops
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
options:
  host:
    description: Address of the Redis or Sentinel to ask (this node, or another member's sentinel).
    type: str
    default: 127.0.0.1
  port:
    description: Its port.
    type: int
    default: 6379
  password:
    description: The cache password (Redis C(requirepass), also Sentinel's). Never logged or returned.
    type: str
    default: ""
  authenticate:
    description: Send C(AUTH) with I(password) first; false to ask as an unauthenticated client.
    type: bool
    default: true
  commands:
    description: The commands, each a list of words, e.g. C([CONFIG, GET, maxmemory]).
    type: list
    elements: list
    required: true
  connect_timeout:
    description: Seconds to wait for a connection or a reply.
    type: float
    default: 3.0
"""

EXAMPLES = r"""
- name: Ask this node's Redis for its replication role
  cache_query:
    port: 6379
    password: "{{ preview_cache_password }}"
    commands:
      - [INFO, replication]
  register: info

- name: Check that an unauthenticated client is refused
  cache_query:
    authenticate: false
    commands:
      - [PING]
  register: noauth
"""

RETURN = r"""
connected:
  description: Whether the server accepted the connection.
  returned: always
  type: bool
error:
  description: Why nothing could be asked (connection refused, AUTH refused), or null.
  returned: always
  type: str
replies:
  description:
    - One per command, in order. C(lines) is the reply as redis-cli prints it to a pipe (strings line by line,
      arrays element by element, an error reply as its text such as C(NOAUTH Authentication required.)).
  returned: always
  type: list
  elements: dict
  sample: [{"command": "INFO replication", "ok": true, "error": null, "lines": ["# Replication", "role:master"]}]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.huaian_inspect_cache import query, read_only_command


def run(module):
    p = module.params
    refused = [" ".join(str(a) for a in c) for c in p["commands"] if read_only_command(c) is None]
    if refused:
        module.fail_json(msg="cache_query sends reads only; refused: %s" % ", ".join(refused))
    result = query(p["host"], p["port"], p["password"], [[str(a) for a in c] for c in p["commands"]],
                   authenticate=p["authenticate"], timeout=p["connect_timeout"])
    result["changed"] = False
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            host=dict(type="str", default="127.0.0.1"),
            port=dict(type="int", default=6379),
            password=dict(type="str", default="", no_log=True),
            authenticate=dict(type="bool", default=True),
            commands=dict(type="list", elements="list", required=True),
            connect_timeout=dict(type="float", default=3.0),
        ),
        supports_check_mode=True,
    )
    module.exit_json(**run(module))


if __name__ == "__main__":
    main()
