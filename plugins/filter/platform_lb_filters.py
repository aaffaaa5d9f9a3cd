# -*- coding: utf-8 -*-
"""Filters of the platform_lb role: the nginx upstream servers of a list of BES inventory hosts.

Pure functions; unit-tested in tests/unit/test_platform_lb_filters.py. Controller-side.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type


def _listener_port(host_vars, default_port):
    listeners = host_vars.get("bes_listeners") or []
    first = listeners[0] if listeners else {}
    port = first.get("port") if hasattr(first, "get") else None
    return int(port) if port not in (None, "") else int(default_port)


def platform_lb_servers(backends, hostvars, backend_port=0, default_port=18080):
    """One entry per backend host: {host, address, port, server}.

    address is the host's ansible_host, else its inventory name; port is backend_port when above 0, else
    the host's own bes_listeners[0].port, else default_port (the bes role's default). server is what
    nginx's upstream takes: address:port, an IPv6 address in brackets. Items that are not strings, and
    a backends value that is no list, are left out (the role's validation reports them).
    """
    out = []
    if not backends or isinstance(backends, (str, dict)):
        return out
    for host in backends:
        if not isinstance(host, str):
            continue
        host_vars = hostvars[host] if host in hostvars else {}
        address = str(host_vars.get("ansible_host") or host)
        port = int(backend_port) if int(backend_port or 0) > 0 else _listener_port(host_vars, default_port)
        server = ("[%s]" % address if ":" in address else address) + ":%d" % port
        out.append({"host": host, "address": address, "port": port, "server": server})
    return out


class FilterModule(object):
    def filters(self):
        return {"platform_lb_servers": platform_lb_servers}
