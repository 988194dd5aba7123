import Netfault

extension Catalog {
    static let timeWaitDuration = Scenario(
        "C7", "TIME_WAIT lasts 60 s, whatever tcp_fin_timeout says",
        summary: """
            The client closes first and keeps a TIME_WAIT socket. On Linux its length is the \
            compiled-in TCP_TIMEWAIT_LEN of 60 s, not 2×MSL from a setting; tcp_fin_timeout (set \
            to 5 s here) only bounds orphaned FIN_WAIT2 sockets. The one scenario that waits the full 60 s.
            """,
        claim: "TIME_WAIT lasts 2MSL (000, 002, 004).",
        verdict: .partly,
        timeLimit: 90
    ) {
        Host("client")
        Host("server")
        Link("client", "server", subnet: "10.77.17.0/24")
        Sysctl("client", "net.ipv4.tcp_fin_timeout", 5)
        // The server's ACK of the FIN and its own FIN can leave from different CPUs and arrive
        // swapped (seen once in ten runs): the FIN puts the client in TIME_WAIT, the late ACK
        // draws a RST from the closed server, and that RST ends TIME_WAIT at once (RFC 1337's
        // "TIME-WAIT assassination"). tcp_rfc1337=1 makes TIME_WAIT ignore RSTs, so the
        // timer's own 60 s is what is measured.
        Sysctl("client", "net.ipv4.tcp_rfc1337", 1)
        Peer("server", on: "server", .listen(port: 8080), .accept, .readToEnd, .close, .hold)
        WaitFor(.listener(on: "server", port: 8080), in: .listen, timeout: 2)
        Peer("client", on: "client", .connect(to: "server", port: 8080), .close, .hold)
        WaitFor(.connection(on: "client", port: 8080), in: .timeWait, timeout: 3)
        WaitFor(.connection(on: "client", port: 8080), in: .close, timeout: 75)
        // The 60 s timer sits on the timer wheel's level 3 at HZ=250 (512-jiffy, 2.048 s
        // granules), so it fires up to 2.048 s late, never early; sampling adds 1 ms each end.
        Expect.socket(.connection(on: "client", port: 8080), staysIn: .timeWait, for: 60,
                      tolerance: Tolerance(early: 0.001, lateMinimum: 2.1, lateFraction: 0))
    }
}
