import Netfault

extension Catalog {
    static let synFlood = Scenario(
        "H9", "A SYN flood fills the SYN queue; syncookies let clients in",
        summary: """
            Four SYNs from an attacker whose SYN-ACKs never come back (as from forged addresses) \
            against servers listening with backlog 2. Linux keeps backlog + 1 = 3 of them as \
            SYN_RECV requests (backlog = 2 before a fix of 2025, as on 5.10.223: the counts \
            below are then one more drop or cookie; measured on the kernel): the SYN queue is \
            bounded by the listen backlog (min(backlog, somaxconn)), not by tcp_max_syn_backlog, \
            raised to 4096 on server0 to no effect; that \
            sysctl only matters with syncookies off, where it keeps its last quarter for peers \
            already proven alive. So a larger tcp_max_syn_backlog alone is no remedy. With \
            tcp_syncookies=0 the fourth SYN and a legitimate client's SYNs at 0 and 1 s are \
            dropped (TCPReqQFullDrop 3) and its connect() times out. With tcp_syncookies=1 SYNs \
            past the full queue get a cookie SYN-ACK and the server keeps nothing (SyncookiesSent \
            2: the fourth SYN and the client's); the client's ACK brings the cookie back and the \
            connection is established at once, with no request socket. With tcp_syncookies=2 every \
            SYN gets a cookie although the queue is empty (3 of 3, counted as TCPReqQFullDoCookies) \
            and no SYN_RECV socket ever exists. Fewer SYN-ACK retries (H5) only shorten how long \
            each forged request is kept.
            """,
        claim: "A SYN flood fills the half-open (SYN) queue and new SYNs are dropped; remedies are a larger tcp_max_syn_backlog, tcp_syncookies (0 off, 1 when the queue overflows, 2 always) and fewer SYN-ACK retries (002, 004).",
        verdict: .partly,
        // About 3 s here; in an emulated VM (scripts/in-vm 5.10) its 17 processes took until
        // 6.8 s to start, and client0 then waits its 1.5 s: 8 s ran out there.
        timeLimit: 20
    ) {
        Host("client0")
        Host("attacker0")
        Host("server0")
        Host("client1")
        Host("attacker1")
        Host("server1")
        Host("client2")
        Host("server2")
        // Client links first: a host name stands for the host's first address, so clients
        // connect to "server0"; the attackers name the servers' other address.
        Link("client0", "server0", subnet: "10.77.9.0/25")
        Link("attacker0", "server0", subnet: "10.77.9.128/25")     // server0 is 10.77.9.130 here
        Link("client1", "server1", subnet: "10.77.90.0/24")
        Link("attacker1", "server1", subnet: "10.77.91.0/24")      // server1 is 10.77.91.2 here
        Link("client2", "server2", subnet: "10.77.92.0/24")
        Sysctl("server0", "net.ipv4.tcp_syncookies", 0)
        Sysctl("server1", "net.ipv4.tcp_syncookies", 1)
        Sysctl("server2", "net.ipv4.tcp_syncookies", 2)
        // The note's first remedy, and twice the 2048 a new namespace gets here: the queue
        // still ends at the listen backlog.
        Sysctl("server0", "net.ipv4.tcp_max_syn_backlog", 4096)
        // The flood, as from forged source addresses: the SYN-ACKs never reach the attacker,
        // so nothing ever acknowledges them and each request stays in SYN_RECV.
        Drop(.synAck, at: .link(from: "server0", to: "attacker0"), name: "flood SYN-ACKs 0")
        Drop(.synAck, at: .link(from: "server1", to: "attacker1"), name: "flood SYN-ACKs 1")
        Peer("server0", on: "server0", .listen(port: 8080, backlog: 2), .hold)
        Peer("server1", on: "server1", .listen(port: 8080, backlog: 2), .hold)
        Peer("server2", on: "server2", .listen(port: 8080, backlog: 2), .hold)
        WaitFor(.listener(on: "server0", port: 8080), in: .listen, timeout: 2)
        WaitFor(.listener(on: "server1", port: 8080), in: .listen, timeout: 2)
        WaitFor(.listener(on: "server2", port: 8080), in: .listen, timeout: 2)
        // Four SYNs, one per process; each gives up after 0.3 s (before its first SYN
        // retransmission at 1 s) and exits, leaving nothing on the attacker. When all have
        // exited, every SYN has been answered, dropped or answered with a cookie.
        for i in 1...4 {
            Peer("flood0-\(i)", on: "attacker0", .connect(to: "10.77.9.130", port: 8080, timeout: 0.3))
            Peer("flood1-\(i)", on: "attacker1", .connect(to: "10.77.91.2", port: 8080, timeout: 0.3))
        }
        for i in 1...4 {
            WaitFor(exitOf: "flood0-\(i)", timeout: 2)
            WaitFor(exitOf: "flood1-\(i)", timeout: 2)
        }
        // TCP_USER_TIMEOUT 1.5 s: client0's kernel sends SYNs at 0 and 1 s, cuts the next timeout
        // to what is left and fails connect() with ETIMEDOUT at 1.5 s, however late this process runs.
        Peer("client0", on: "client0", .bind(port: 6000), .userTimeout(1.5), .connect(to: "server0", port: 8080), .hold)
        Peer("client1", on: "client1", .bind(port: 6000), .connect(to: "server1", port: 8080, timeout: 1.5), .hold)
        Peer("client2", on: "client2", .repeat(3, [.connect(to: "server2", port: 8080)]), .hold)
        WaitFor(.connection(on: "server1", port: 6000), in: .established, timeout: 2)
        WaitFor(exitOf: "client0", timeout: 3)

        // tcp_syncookies=0: the queue is full and the client is shut out. Full at backlog + 1 = 3
        // requests: inet_csk_reqsk_queue_is_full() tests "more than the backlog" since a fix of
        // January 2025 (commit 3479c7549fb1, also taken into the stable kernels); before it, at
        // the backlog itself (Debian's 5.10.223 of August 2024). No sysctl or version tells a
        // backport apart, so the capacity is measured on the kernel (SynQueueCapacity), and
        // each count below follows from it: 3 here, 2 on 5.10.223.
        Expect.sockets(on: "server0", in: .synRecv, port: 8080, count: .equalsKernel(.synQueueCapacity(backlog: 2)))
        Expect.fault("flood SYN-ACKs 0", acted: .atLeast(3))
        Expect.peer("client0", fails: "connect", with: "ETIMEDOUT")
        Expect.segments(.syn, from: "client0", count: .equals(2))
        Expect.noSegments(.synAck, from: "server0", port: 6000)
        // The attacker's SYNs past the queue (the fourth) and the client's two.
        Expect.counter("TcpExtTCPReqQFullDrop", on: "server0", .equalsKernel(.synQueueOverflow(backlog: 2, syns: 4 + 2)))
        Expect.counter("TcpExtListenDrops", on: "server0", .equalsKernel(.synQueueOverflow(backlog: 2, syns: 4 + 2)))
        Expect.counter("TcpExtSyncookiesSent", on: "server0", .equals(0))
        // Counted as drops, yet the kernel gives no drop reason: tcp_conn_request() refuses the
        // SYN and its caller frees it as consumed (consume_skb), so kfree_skb never sees it.
        Expect.kernelDrops(on: "server0", port: 6000, count: .equals(0))
        Expect.retransmissions(.syn, from: "client0", at: .seconds([0, 1]))

        // tcp_syncookies=1: the same full queue, but the client gets in with a cookie.
        Expect.sockets(on: "server1", in: .synRecv, port: 8080, count: .equalsKernel(.synQueueCapacity(backlog: 2)))
        Expect.fault("flood SYN-ACKs 1", acted: .atLeast(4))
        Expect.peer("client1", succeeds: "connect")
        Expect.segments(.syn, from: "client1", count: .equals(1))
        // The attacker's SYNs past the queue and the client's one.
        Expect.counter("TcpExtSyncookiesSent", on: "server1", .equalsKernel(.synQueueOverflow(backlog: 2, syns: 4 + 1)))
        Expect.counter("TcpExtSyncookiesRecv", on: "server1", .equals(1))
        Expect.counter("TcpExtTCPReqQFullDrop", on: "server1", .equals(0))
        // No request socket waits in SYN_RECV: the child is made from the cookie's ACK and is
        // SYN_RECV only while it is made (kernel events; sampling never sees it).
        Expect.socket(.connection(on: "server1", port: 6000), staysExactlyIn: .synRecv, for: 0, tolerance: Catalog.subMillisecond)
        Expect.socket(.connection(on: "server1", port: 6000), endsIn: .established)

        // tcp_syncookies=2: cookies for every SYN, with nothing in the queue.
        Expect.counter("TcpExtSyncookiesSent", on: "server2", .equals(3))
        Expect.counter("TcpExtSyncookiesRecv", on: "server2", .equals(3))
        Expect.counter("TcpExtTCPReqQFullDoCookies", on: "server2", .equals(3))
        Expect.socket(.connection(on: "server2", port: 8080), staysExactlyIn: .synRecv, for: 0, tolerance: Catalog.subMillisecond)
        Expect.sockets(on: "server2", in: .established, port: 8080, count: .equals(3))
    }
}
