import Netfault

extension Catalog {
    static let lostAckOfFin = Scenario(
        "C4", "The ACK of the FIN lost",
        summary: """
            The server's ACK of the client's FIN is dropped. The client, still in FIN_WAIT1, \
            retransmits the FIN after its retransmission timeout (200 ms and a little); the server \
            acknowledges the repeated FIN at once and the client moves on to FIN_WAIT2.
            """,
        claim: "If the ACK of the FIN is lost, the closer retransmits the FIN and the peer acknowledges it again (002, 004)."
    ) {
        Host("client")
        Host("server")
        Link("client", "server", subnet: "10.77.14.0/24")
        Drop(.finAck, at: .link(from: "server", to: "client"), .nth(1), name: "ACK of the FIN")
        Peer("server", on: "server", .listen(port: 8080), .accept, .readToEnd, .sleep(1), .close)
        WaitFor(.listener(on: "server", port: 8080), in: .listen, timeout: 2)
        Peer("client", on: "client", .connect(to: "server", port: 8080), .sleep(0.1), .shutdownWrite, .readToEnd, .close)
        WaitFor(exitOf: "server", timeout: 5)
        Expect.fault("ACK of the FIN", acted: .equals(1))
        Expect.counter("TcpRetransSegs", on: "client", .equals(1))
        Expect.socket(.connection(on: "client", port: 8080), passesThrough: [.finWait1, .finWait2, .timeWait])
        // From the FIN to the ACK of its retransmission: one RTO, as the kernel set it for this
        // connection (tcp_info rto: tcp_rto_min, 200 ms, plus the smoothed RTT and its deviation:
        // microseconds on an idle veth, enough in an emulated 5.10 guest once for a 0.301 s stay),
        // rounded up to a 4 ms jiffy, then the retransmitted FIN's round trip: 25 % late rather
        // than the timer's 12.5 %.
        Expect.socket(.connection(on: "client", port: 8080), staysIn: .finWait1, for: .retransmissionTimeout,
                      tolerance: Self.retransmissionTimeouts)
    }
}
