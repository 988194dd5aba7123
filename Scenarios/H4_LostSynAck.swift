import Netfault

extension Catalog {
    static let lostSynAck = Scenario(
        "H4", "SYN-ACK lost: both sides retransmit",
        summary: """
            The server's first SYN-ACK is dropped. Meanwhile the server keeps a request socket in \
            SYN_RECV (it has no file descriptor; only sock_diag shows it) for about the 1 s initial \
            timeout. Then the server sends the SYN-ACK again — on its own timer, or at once when the \
            client's retransmitted SYN arrives, whichever comes first — and the connection is set up.
            """,
        claim: "When the SYN-ACK is lost the client retransmits its SYN and the server retransmits its SYN-ACK (002, 004)."
    ) {
        Host("client")
        Host("server")
        Link("client", "server", subnet: "10.77.4.0/24")
        Drop(.synAck, at: .link(from: "server", to: "client"), .nth(1), name: "first SYN-ACK")
        Peer("server", on: "server", .listen(port: 8080), .accept, .read(bytes: 5), .sleep(0.1), .close)
        WaitFor(.listener(on: "server", port: 8080), in: .listen, timeout: 2)
        Peer("client", on: "client", .connect(to: "server", port: 8080), .write(bytes: 5), .readToEnd, .close)
        WaitFor(exitOf: "client", timeout: 5)
        Expect.fault("first SYN-ACK", acted: .equals(1))
        // Each side's timer fires once: a second SYN and a second SYN-ACK, 1 s after the first.
        Expect.segments(.syn, from: "client", at: .seconds([0, 1]))
        Expect.segments(.synAck, from: "server", count: .atLeast(2))
        // The server's timer starts when the SYN arrives, where it sends the first SYN-ACK: timed
        // from the SYN as the client's capture stamped it, not from that SYN-ACK, which the fault
        // dropped and only the fault engine stamped (60–340 ms late in an emulated VM).
        Expect.delay(from: .segment(.syn, from: "client"), to: .segment(.synAck, from: "server", occurrence: 2), is: 1)
        Expect.socket(.connection(on: "server", port: 8080), passesThrough: [.synRecv, .established])
        // Both timers start at 1 s (TCP_TIMEOUT_INIT); the first to fire ends the wait.
        Expect.socket(.connection(on: "server", port: 8080), staysIn: .synRecv, for: 1.0)
        Expect.counter("TcpExtTCPSynRetrans", on: "server", .atLeast(1))
        Expect.peer("client", succeeds: "connect", tookAtLeast: 1.0, tookAtMost: 1.2)
    }
}
