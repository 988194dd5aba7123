import Netfault

extension Catalog {
    static let oneSynLost = Scenario(
        "H3", "One SYN lost, the next one delivered",
        summary: """
            The client's first SYN is dropped; its retransmission after the 1 s initial timeout \
            gets through. The connection is established about 1 s late, and the server saw exactly \
            one SYN: one passive open, one SYN-ACK.
            """,
        claim: "After a lost SYN only the SYN that gets through is answered; the connection is set up by it (000, 002)."
    ) {
        Host("client")
        Host("server")
        Link("client", "server", subnet: "10.77.3.0/24")
        Drop(.syn, at: .link(from: "client", to: "server"), .nth(1), name: "first SYN")
        Peer("server", on: "server", .listen(port: 8080), .accept, .read(bytes: 5), .close)
        WaitFor(.listener(on: "server", port: 8080), in: .listen, timeout: 2)
        Peer("client", on: "client", .connect(to: "server", port: 8080), .write(bytes: 5), .readToEnd, .close)
        WaitFor(exitOf: "client", timeout: 5)
        Expect.fault("first SYN", acted: .equals(1))
        // The 1 s initial RTO fires late, never early: up to 12.5 % on the timer wheel, plus the round trip.
        Expect.peer("client", succeeds: "connect", tookAtLeast: 1.0, tookAtMost: 1.2)
        Expect.counter("TcpPassiveOpens", on: "server", .equals(1))
        Expect.counter("TcpExtTCPSynRetrans", on: "server", .equals(0))
        Expect.peer("server", succeeds: "read", result: 5)
    }
}
