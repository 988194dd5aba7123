import Netfault

extension Catalog {
    static let acceptQueueOverflow = Scenario(
        "H10", "A full accept queue drops the final ACK, or answers it with RST",
        summary: """
            Servers that never call accept(). server0 listens with backlog 128 but somaxconn=1, \
            server1 with backlog 1: both limits are min(backlog, somaxconn) = 1, and Linux lets the \
            queue hold one more than that (it is full only when it holds more than the limit), so \
            two completed connections fill each. A third client's SYN came while there was room, \
            so the server keeps a request for it, but its ACK arrives when the queue is full \
            (ListenOverflows). With tcp_abort_on_overflow=0 the server drops that ACK and stays in \
            SYN_RECV, sending the SYN-ACK again at 1 and 3 s (each answered, each answer dropped \
            again), while the client has been ESTABLISHED all along. With tcp_abort_on_overflow=1 \
            the server answers the ACK with RST and the client's read() fails with ECONNRESET.
            """,
        claim: "The accept queue holds min(listen backlog, somaxconn) connections (002, 004).",
        verdict: .partly,
        timeLimit: 8
    ) {
        Host("client0")
        Host("server0")
        Host("client1")
        Host("server1")
        Link("client0", "server0", subnet: "10.77.10.0/24")
        Link("client1", "server1", subnet: "10.77.100.0/24")
        Sysctl("server0", "net.core.somaxconn", 1)
        Sysctl("server1", "net.ipv4.tcp_abort_on_overflow", 1)
        // The late client's ACK must reach the server after the queue has filled, though its
        // SYN came before: the first ACK is dropped, so the next one answers the SYN-ACK the
        // server sends again 1 s later (a whole second for the fillers to connect).
        Drop(.handshakeAck, at: .link(from: "client0", to: "server0"), .first(1), port: 5001, name: "first ACK 0")
        Drop(.handshakeAck, at: .link(from: "client1", to: "server1"), .first(1), port: 5001, name: "first ACK 1")
        Peer("server0", on: "server0", .listen(port: 8080, backlog: 128), .hold)
        Peer("server1", on: "server1", .listen(port: 8080, backlog: 1), .hold)
        WaitFor(.listener(on: "server0", port: 8080), in: .listen, timeout: 2)
        WaitFor(.listener(on: "server1", port: 8080), in: .listen, timeout: 2)
        Peer("late0", on: "client0", .bind(port: 5001), .connect(to: "server0", port: 8080), .read(bytes: 1), .hold)
        Peer("late1", on: "client1", .bind(port: 5001), .connect(to: "server1", port: 8080), .read(bytes: 1), .hold)
        WaitFor(.connection(on: "server0", port: 5001), in: .synRecv, timeout: 2)
        WaitFor(.connection(on: "server1", port: 5001), in: .synRecv, timeout: 2)
        Peer("fill0", on: "client0", .repeat(2, [.connect(to: "server0", port: 8080)]), .hold)
        Peer("fill1", on: "client1", .repeat(2, [.connect(to: "server1", port: 8080)]), .hold)
        // The third SYN-ACK to the late client is due 3 s after the first (1 s, doubling);
        // 3.6 s from here is past its 12.5 % timer margin and long before the fourth (7 s).
        Wait(3.6)
        // The queue: two connections each, backlog 1 plus Linux's one extra.
        Expect.sockets(on: "server0", in: .established, port: 8080, count: .equals(2))
        Expect.sockets(on: "server1", in: .established, port: 8080, count: .equals(2))
        Expect.fault("first ACK 0", acted: .equals(1))
        Expect.fault("first ACK 1", acted: .equals(1))
        // tcp_abort_on_overflow=0: ACKs at 1 s and 3 s overflow and are dropped; one more
        // may come when the processes are stopped (the client's FIN also acknowledges the SYN-ACK).
        Expect.counter("TcpExtListenOverflows", on: "server0", .atLeast(2))
        Expect.segments(.synAck, from: "server0", port: 5001, at: .seconds([0, 1, 3]))
        // The kernel says why (kfree_skb): each of those ACKs is a TCP_LISTEN_OVERFLOW drop, and
        // the SYN-ACKs at 1 and 3 s are retransmissions of the request's first.
        Expect.kernelDrops(on: "server0", reason: "TCP_LISTEN_OVERFLOW", port: 5001, count: .atLeast(2))
        Expect.retransmissions(.synAck, from: "server0", port: 5001, at: .seconds([0, 1, 3]))
        Expect.socket(.connection(on: "server0", port: 5001), endsIn: .synRecv)
        Expect.sockets(on: "client0", in: .established, port: 5001, count: .equals(1))
        // tcp_abort_on_overflow=1: the ACK at 1 s overflows and is answered with RST.
        Expect.counter("TcpExtListenOverflows", on: "server1", .equals(1))
        Expect.segments(.synAck, from: "server1", port: 5001, at: .seconds([0, 1]))
        Expect.kernelDrops(on: "server1", reason: "TCP_LISTEN_OVERFLOW", port: 5001, count: .equals(1))
        Expect.segments(.rst, from: "server1", port: 5001, count: .equals(1))
        Expect.socket(.connection(on: "server1", port: 5001), endsIn: .close)
        Expect.peer("late1", fails: "read", with: "ECONNRESET")
    }
}
