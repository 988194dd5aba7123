import Netfault

extension Catalog {
    static let lostSynAck = Scenario(
        "H4", "SYN-ACK lost: both sides retransmit",
        summary: """
            The server's first two SYN-ACKs are dropped. Meanwhile the server keeps a request socket \
            in SYN_RECV (it has no file descriptor; only sock_diag shows it) for about the 1 s initial \
            timeout. Then both timers fire: the server sends the SYN-ACK again (dropped too), and \
            the client its SYN, held 0.1 s on the wire so that it arrives after the server's timer \
            fired; the server answers it with a third SYN-ACK, which sets the connection up.
            """,
        claim: "When the SYN-ACK is lost the client retransmits its SYN and the server retransmits its SYN-ACK (002, 004)."
    ) {
        Host("client")
        Host("server")
        Link("client", "server", subnet: "10.77.4.0/24")
        // Two: the second SYN-ACK, the server's timer's, is dropped too, so the client's timer fires.
        Drop(.synAck, at: .link(from: "server", to: "client"), .first(2), name: "first SYN-ACKs")
        // The client's second SYN waits 0.1 s on the wire, so the server's timer, armed when the
        // first SYN arrived (1 s, at most 32 ms late at the timer wheel's level for 1 s), fires
        // before it arrives. Without it the two timers race within milliseconds, and when the SYN
        // wins, answering it re-arms the server's timer (tcp_check_req) and the connection waits
        // ~1 s more (seen in an emulated 5.10 guest, and here once links steered flows to one CPU).
        Delay(.syn, by: 0.1, at: .link(from: "client", to: "server"), .nth(2), name: "late second SYN")
        Peer("server", on: "server", .listen(port: 8080), .accept, .read(bytes: 5), .sleep(0.1), .close)
        WaitFor(.listener(on: "server", port: 8080), in: .listen, timeout: 2)
        Peer("client", on: "client", .connect(to: "server", port: 8080), .write(bytes: 5), .readToEnd, .close)
        WaitFor(exitOf: "client", timeout: 5)
        Expect.fault("first SYN-ACKs", acted: .equals(2))
        Expect.fault("late second SYN", acted: .equals(1))
        // Each side's timer fires once: a second SYN 1 s after the first (leaving 0.1 s later), and
        // a SYN-ACK 1 s after the first; the third SYN-ACK answers the late SYN and gets through.
        Expect.segments(.syn, from: "client", at: .seconds([0, 1.1]))
        Expect.segments(.synAck, from: "server", count: .equals(3))
        // Timed from the SYN as the client's capture stamped it; the dropped second SYN-ACK has the
        // kernel's instant at the drop (bpf backend).
        Expect.delay(from: .segment(.syn, from: "client"), to: .segment(.synAck, from: "server", occurrence: 2), is: 1)
        Expect.delay(from: .segment(.syn, from: "client"), to: .segment(.synAck, from: "server", occurrence: 3), is: 1.1)
        Expect.socket(.connection(on: "server", port: 8080), passesThrough: [.synRecv, .established])
        // The request socket lives from the first SYN to the ACK of the third SYN-ACK.
        Expect.socket(.connection(on: "server", port: 8080), staysIn: .synRecv, for: 1.1)
        Expect.counter("TcpExtTCPSynRetrans", on: "server", .atLeast(1))
        Expect.peer("client", succeeds: "connect", tookAtLeast: 1.1, tookAtMost: 1.25)
    }
}
