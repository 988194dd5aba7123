import Netfault

extension Catalog {
    static let lostPassiveFin = Scenario(
        "C5", "The passive side's FIN lost",
        summary: """
            The client half-closes (shutdown(SHUT_WR)) and keeps reading; the server reads the end \
            of file and closes, but its first four FINs are dropped. The server sends the FIN again \
            from LAST_ACK — a tail loss probe after about 200 ms, then retransmissions with the \
            timeout doubling from 200 ms, at about 0.2, 0.4, 0.85 and 1.7 s — while the client waits \
            in FIN_WAIT2, longer than its tcp_fin_timeout (1 s here), because that timeout only ends \
            orphaned sockets and this one is still held by the application.
            """,
        claim: "If the passive side's FIN is lost it retransmits from LAST_ACK while the closer waits in FIN_WAIT_2 (002).",
        timeLimit: 15
    ) {
        Host("client")
        Host("server")
        Link("client", "server", subnet: "10.77.15.0/24")
        Sysctl("client", "net.ipv4.tcp_fin_timeout", 1)
        Drop(.fin, at: .link(from: "server", to: "client"), .first(4), name: "server FINs")
        Peer("server", on: "server", .listen(port: 8080), .accept, .readToEnd, .sleep(0.1), .close, .hold)
        WaitFor(.listener(on: "server", port: 8080), in: .listen, timeout: 2)
        Peer("client", on: "client", .connect(to: "server", port: 8080), .sleep(0.1), .shutdownWrite, .readToEnd, .close)
        WaitFor(exitOf: "client", timeout: 8)
        // The probe and the first retransmission each ~200 ms (tcp_rto_min), then the RTO doubles.
        // The FIN and its retransmissions: the last one, no longer dropped, reaches the client.
        Expect.segments(.fin, from: "server", at: .seconds([0, 0.2, 0.4, 0.8, 1.6]), tolerance: Self.retransmissionTimeouts)
        Expect.sameSequence(of: "server FINs")
        Expect.socket(.connection(on: "server", port: 8080), passesThrough: [.closeWait, .lastAck, .close])
        // Four timeouts of 0.2, 0.2, 0.4 and 0.8 s, each rounded up to the timer wheel's
        // granule (up to 12.5 %); the probe's also adds two smoothed RTTs, which a loaded
        // machine stretches to milliseconds: 25 % late allowed (measured up to 1.81 s).
        Expect.socket(.connection(on: "server", port: 8080), staysIn: .lastAck, for: 1.6, tolerance: Self.retransmissionTimeouts)
        Expect.socket(.connection(on: "client", port: 8080), staysIn: .finWait2, for: 1.6, tolerance: Self.retransmissionTimeouts)
        Expect.socket(.connection(on: "client", port: 8080), passesThrough: [.finWait2, .timeWait])
    }
}
