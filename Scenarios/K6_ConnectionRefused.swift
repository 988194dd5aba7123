import Netfault

extension Catalog {
    static let connectionRefused = Scenario(
        "K6", "A SYN to a closed port is answered with RST",
        summary: """
            Nothing listens on the server's port 9. The server's kernel answers the SYN with RST \
            and the client's connect() fails at once with ECONNREFUSED: no retransmission, no wait.
            """,
        claim: "RST means reset the connection."
    ) {
        Host("client")
        Host("server")
        Link("client", "server", subnet: "10.77.37.0/24")
        Peer("client", on: "client", .connect(to: "server", port: 9))
        WaitFor(exitOf: "client", timeout: 2)
        // "At once": measured from the peer's start event (it makes no other call before
        // connecting) so a slow process start on a loaded machine does not count; one
        // round trip on a veth is tens of µs, far below the 1 s a SYN retransmission takes.
        Expect.peer("client", fails: "connect", with: "ECONNREFUSED", tookAtMost: 0.2)
        Expect.exitStatus(of: "client", is: 1)
        Expect.counter("TcpOutRsts", on: "server", .equals(1))
        Expect.segments(.rst, from: "server", count: .equals(1))
        Expect.delay(from: .segment(.syn, from: "client"), to: .segment(.rst, from: "server"), is: 0,
                     tolerance: Tolerance(early: 0, lateMinimum: 0.05, lateFraction: 0))
        Expect.counter("TcpRetransSegs", on: "client", .equals(0))
    }
}
