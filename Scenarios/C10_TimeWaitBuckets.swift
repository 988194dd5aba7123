import Netfault

extension Catalog {
    static let timeWaitBuckets = Scenario(
        "C10", "Past tcp_max_tw_buckets, closed connections keep no TIME_WAIT",
        summary: """
            The client closes first, five times in a row, with tcp_max_tw_buckets=2 (the default \
            here is 131072). The first two connections end in TIME_WAIT; for the other three the \
            kernel finds no free bucket, counts TCPTimeWaitOverflow (3) and frees the socket at \
            once. The close still looks normal on the wire (the last ACK goes out, no RST), but \
            those three connections lose TIME_WAIT's protection against old duplicate segments. \
            (An application that closes without waiting for the peer's FIN needs the bucket \
            earlier, for the orphaned FIN_WAIT2; without one the socket is gone and the peer's \
            late FIN gets an RST, as a trial run with an immediate close() showed.)
            """,
        claim: "Past tcp_max_tw_buckets, new TIME_WAIT sockets are not kept (004).",
        timeLimit: 5
    ) {
        Host("client")
        Host("server")
        Link("client", "server", subnet: "10.77.20.0/24")
        Sysctl("client", "net.ipv4.tcp_max_tw_buckets", 2)
        // The server closes 0.1 s after the end of file, so its ACK of the client's FIN (at once,
        // or a delayed ACK's 40 ms on) leaves well before its own FIN. Sent microseconds apart
        // from two CPUs, the two can arrive swapped; the client's TIME_WAIT (or, without a bucket,
        // no socket) then answers the late ACK, and a RST follows (seen in C11 on 6.1).
        Peer("server", on: "server", .listen(port: 8080), .repeat(5, [.accept, .readToEnd, .sleep(0.1), .close]))
        WaitFor(.listener(on: "server", port: 8080), in: .listen, timeout: 2)
        // The client sends its FIN first but keeps the socket until the server's FIN (end of
        // file) has arrived: it goes to TIME_WAIT from a socket it still holds, never from
        // an orphaned FIN_WAIT2 (which needs a bucket too, and without one would answer the
        // server's FIN with RST depending on whether that FIN came with the ACK).
        Peer("client", on: "client",
             .repeat(5, [.connect(to: "server", port: 8080), .shutdownWrite, .readToEnd, .close]))
        // Every close is done, and every TIME_WAIT decided, when the client has read all five
        // ends of file and exits.
        WaitFor(exitOf: "client", timeout: 3)
        Expect.exitStatus(of: "client", is: 0)
        // Not TcpExtTW: Linux 5.10 counts it when a TIME_WAIT ends (0 here, 60 s early), 6.1 and
        // later when it begins (2) — the sockets themselves are counted below instead.
        Expect.counter("TcpExtTCPTimeWaitOverflow", on: "client", .equals(3))
        Expect.sockets(on: "client", in: .timeWait, port: 8080, count: .equals(2))
        Expect.sockets(on: "server", in: .timeWait, port: 8080, count: .equals(0))
        Expect.noSegments(.rst, from: "client")
        Expect.noSegments(.rst, from: "server")
    }
}
