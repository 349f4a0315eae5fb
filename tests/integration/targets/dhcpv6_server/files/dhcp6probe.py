# SPDX-License-Identifier: GPL-3.0-or-later
"""A tiny DHCPv6 client for tests: sends one exchange on a link and decodes the answer.

Standard library only. Stays on the given link (link-local source, ff02::1:2 destination).

  dhcp6probe.py solicit IFACE [--user-class X] [--duid HEX] [--timeout S]
  dhcp6probe.py inforeq IFACE [--user-class X] [--timeout S]
  dhcp6probe.py load IFACE --seconds S --max-count N [--interval S] [--duid HEX]
  dhcp6probe.py rate IFACE --seconds S --max-count N [--reply-timeout S]

Prints one JSON object: whether an answer came, its message type and decoded options.
``load`` takes a lease (Solicit/Request) then keeps renewing it, and prints figures: requests
sent and answered, the longest time without an answer, and the addresses seen. ``rate`` sends
Solicits one after the other, each once the previous one's Advertise came (or its time ran out),
and prints round trips per second and their latency (the bench of a relay).
"""

import argparse
import ipaddress
import json
import os
import socket
import struct
import time

SOLICIT, ADVERTISE, REQUEST, RENEW, REPLY, INFOREQ = 1, 2, 3, 5, 7, 11
NAMES = {1: 'client_id', 2: 'server_id', 3: 'ia_na', 13: 'status', 23: 'dns_servers', 24: 'domain_search',
         25: 'ia_pd', 32: 'information_refresh_time', 82: 'sol_max_rt', 83: 'inf_max_rt'}


def opt(code, data):
    return struct.pack('!HH', code, len(data)) + data


def options(data):
    out = []
    while len(data) >= 4:
        code, length = struct.unpack('!HH', data[:4])
        out.append((code, data[4:4 + length]))
        data = data[4 + length:]
    return out


def names(data):
    labels, out, i = [], [], 0
    while i < len(data):
        n = data[i]
        if n == 0:
            out.append('.'.join(labels))
            labels = []
        else:
            labels.append(data[i + 1:i + 1 + n].decode())
        i += n + 1
    return out


def decode(msg):
    result = {'type': msg[0], 'options': {}}
    for code, data in options(msg[4:]):
        key = NAMES.get(code, str(code))
        if code in (32, 82, 83):
            value = struct.unpack('!I', data)[0]
        elif code == 23:
            value = [str(ipaddress.IPv6Address(data[i:i + 16])) for i in range(0, len(data), 16)]
        elif code == 24:
            value = names(data)
        elif code == 3:
            value = [str(ipaddress.IPv6Address(d[:16])) for c, d in options(data[12:]) if c == 5]
            # preferred and valid lifetime of each address, in the same order
            result['options']['ia_na_lifetimes'] = [list(struct.unpack('!II', d[16:24]))
                                                    for c, d in options(data[12:]) if c == 5]
        elif code == 25:
            value = ['%s/%d' % (ipaddress.IPv6Address(d[9:25]), d[8]) for c, d in options(data[12:]) if c == 26]
        elif code == 13:
            value = struct.unpack('!H', data[:2])[0]
        else:
            value = data.hex()
        result['options'][key] = value
    return result


class Link(object):
    def __init__(self, iface):
        self.index = socket.if_nametoindex(iface)
        self.sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
        self.sock.bind(('::', 546, 0, self.index))

    def exchange(self, mtype, body, timeout):
        xid = os.urandom(3)
        self.sock.sendto(bytes([mtype]) + xid + body, ('ff02::1:2', 547, 0, self.index))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data, dummy = self.sock.recvfrom(65535)
            except socket.timeout:
                return None
            if data[1:4] == xid:
                return data


def client_id(duid_hex):
    return opt(1, bytes.fromhex(duid_hex))


def common(args):
    body = client_id(args.duid) + opt(8, b'\0\0') + opt(6, struct.pack('!HHHHH', 23, 24, 32, 82, 83))
    if args.user_class:
        uc = args.user_class.encode()
        body += opt(15, struct.pack('!H', len(uc)) + uc)
    return body


def ia_na(iaid=1, address=None):
    inner = b''
    if address:
        inner = opt(5, ipaddress.IPv6Address(address).packed + struct.pack('!II', 0, 0))
    return opt(3, struct.pack('!III', iaid, 0, 0) + inner)


def one(args, mtype, body):
    link = Link(args.iface)
    answer = link.exchange(mtype, body, args.timeout)
    out = {'answered': answer is not None}
    if answer is not None:
        out.update(decode(answer))
    print(json.dumps(out, sort_keys=True))


def load(args):
    link = Link(args.iface)
    adv = link.exchange(SOLICIT, common(args) + ia_na(), 3)
    if adv is None:
        print(json.dumps({'error': 'no Advertise'}))
        return
    server = dict(options(adv[4:]))[2]
    address = decode(adv)['options']['ia_na'][0]
    reply = link.exchange(REQUEST, common(args) + opt(2, server) + ia_na(address=address), 3)
    if reply is None:
        print(json.dumps({'error': 'no Reply to Request'}))
        return
    stats = {'sent': 0, 'answered': 0, 'addresses': [address], 'max_gap_s': 0.0, 'status_errors': 0}
    start = last = time.monotonic()
    while stats['sent'] < args.max_count and time.monotonic() - start < args.seconds:
        stats['sent'] += 1
        answer = link.exchange(RENEW, common(args) + opt(2, server) + ia_na(address=address), args.reply_timeout)
        now = time.monotonic()
        if answer is not None:
            stats['answered'] += 1
            stats['max_gap_s'] = max(stats['max_gap_s'], round(now - last, 3))
            last = now
            got = decode(answer)['options']
            if got.get('status') not in (None, 0):
                stats['status_errors'] += 1
            for a in got.get('ia_na') or []:
                if a not in stats['addresses']:
                    stats['addresses'].append(a)
        time.sleep(args.interval)
    stats['max_gap_s'] = max(stats['max_gap_s'], round(time.monotonic() - last - args.interval, 3))
    stats['seconds'] = round(time.monotonic() - start, 2)
    print(json.dumps(stats, sort_keys=True))


def rate(args):
    link = Link(args.iface)
    latencies, sent = [], 0
    start = time.monotonic()
    while sent < args.max_count and time.monotonic() - start < args.seconds:
        sent += 1
        began = time.monotonic()
        if link.exchange(SOLICIT, common(args) + ia_na(), args.reply_timeout) is not None:
            latencies.append(time.monotonic() - began)
    seconds = time.monotonic() - start
    latencies.sort()

    def ms(share):
        return round(1000 * latencies[min(len(latencies) - 1, int(share * len(latencies)))], 2) if latencies else None
    print(json.dumps({'sent': sent, 'answered': len(latencies), 'seconds': round(seconds, 2),
                      'per_second': round(len(latencies) / seconds, 1), 'median_ms': ms(0.5), 'p95_ms': ms(0.95)},
                     sort_keys=True))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('action', choices=['solicit', 'inforeq', 'load', 'rate'])
    parser.add_argument('iface')
    parser.add_argument('--user-class')
    parser.add_argument('--duid', default='00030001020000c0ffee')
    parser.add_argument('--timeout', type=float, default=3)
    parser.add_argument('--seconds', type=float, default=10)
    parser.add_argument('--max-count', type=int, default=200)
    parser.add_argument('--interval', type=float, default=0.1)
    parser.add_argument('--reply-timeout', type=float, default=1.0, help='load: a Reply later than this is lost')
    args = parser.parse_args()
    if args.action == 'solicit':
        one(args, SOLICIT, common(args) + ia_na())
    elif args.action == 'inforeq':
        one(args, INFOREQ, common(args))
    elif args.action == 'rate':
        rate(args)
    else:
        load(args)


if __name__ == '__main__':
    main()
