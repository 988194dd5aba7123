import Netfault

extension Catalog {
    static let lostSynAck = Scenario(
        "H4", "SYN-ACK lost: both sides retransmit",
        summary: """
            The server's first two SYN-ACKs are dropped. Meanwhile the server keeps a request socket \
            in SYN_RECV (it has no file descriptor; only sock_diag shows it) for about the 1 s initial \
            timeout. Then both timers fire: the server sends the SYN-ACK again, and the client its \
            SYN, which the server answers with another SYN-ACK; the first of those two SYN-ACKs is \
            dropped, the other sets the connection up.
            """,
        claim: "When the SYN-ACK is lost the client retransmits its SYN and the server retransmits its SYN-ACK (002, 004)."
    ) {
        Host("client")
        Host("server")
        Link("client", "server", subnet: "10.77.4.0/24")
        // Two: the second SYN-ACK, whether the server's timer or the client's retransmitted SYN
        // brought it, is dropped too, so both timers fire whichever fires first (in an emulated
        // 7.2 VM the server's came first and its SYN-ACK arrived before the client's timer).
        Drop(.synAck, at: .link(from: "server", to: "client"), .first(2), name: "first SYN-ACKs")
        Peer("server", on: "server", .listen(port: 8080), .accept, .read(bytes: 5), .sleep(0.1), .close)
        WaitFor(.listener(on: "server", port: 8080), in: .listen, timeout: 2)
        Peer("client", on: "client", .connect(to: "server", port: 8080), .write(bytes: 5), .readToEnd, .close)
        WaitFor(exitOf: "client", timeout: 5)
        Expect.fault("first SYN-ACKs", acted: .equals(2))
        // Each side's timer fires once: a second SYN, and SYN-ACKs 1 s after the first.
        Expect.segments(.syn, from: "client", at: .seconds([0, 1]))
        Expect.segments(.synAck, from: "server", count: .atLeast(3))
        // The server's timer starts when the SYN arrives, where it sends the first SYN-ACK; the
        // third SYN-ACK, the one captured on the wire, answers the later of the two timers. Timed
        // from the SYN as the client's capture stamped it, not from a dropped SYN-ACK, which only
        // the fault engine stamps (60–340 ms late in an emulated VM).
        Expect.delay(from: .segment(.syn, from: "client"), to: .segment(.synAck, from: "server", occurrence: 3), is: 1)
        Expect.socket(.connection(on: "server", port: 8080), passesThrough: [.synRecv, .established])
        // Both timers start at 1 s (TCP_TIMEOUT_INIT); the SYN-ACK after the later one ends the wait.
        Expect.socket(.connection(on: "server", port: 8080), staysIn: .synRecv, for: 1.0)
        Expect.counter("TcpExtTCPSynRetrans", on: "server", .atLeast(1))
        Expect.peer("client", succeeds: "connect", tookAtLeast: 1.0, tookAtMost: 1.2)
    }
}
