import Netfault

extension Catalog {
    static let finWait1Orphans = Scenario(
        "C9", "FIN_WAIT1 lasts while the peer is gone; orphan retries end it",
        summary: """
            The server vanishes right after the handshake (every later segment to or from it is \
            dropped) and the client then writes and closes. \
            Its orphaned socket sits in FIN_WAIT1 retransmitting data and FIN; tcp_orphan_retries \
            (3 here; 0 means 8) bounds how long — about 7 s on 6.18, minutes with the default. \
            tcp_max_orphans caps how many such sockets may exist at once; past it the kernel \
            resets them instead.
            """,
        claim: "Many FIN_WAIT1 sockets can last long; they are bounded by tcp_max_orphans (003).",
        verdict: .partly,
        timeLimit: 20
    ) {
        Host("client")
        Host("server")
        Link("client", "server", subnet: "10.77.19.0/24")
        Sysctl("client", "net.ipv4.tcp_orphan_retries", 3)
        // Counted per flow and direction, so the handshake gets through however late the peers start.
        Drop(.any, at: .ingress(of: "server"), .afterNth(2), name: "server vanishes")
        Drop(.any, at: .egress(of: "server"), .afterNth(1), name: "server is silent")
        Peer("server", on: "server", .listen(port: 8080), .accept, .hold)
        WaitFor(.listener(on: "server", port: 8080), in: .listen, timeout: 2)
        Peer("client", on: "client", .connect(to: "server", port: 8080), .sleep(0.6), .write(bytes: 1000), .close)
        WaitFor(.connection(on: "client", port: 8080), in: .close, timeout: 12)
        Expect.fault("server vanishes", acted: .atLeast(3))
        Expect.socket(.connection(on: "client", port: 8080), passesThrough: [.established, .finWait1, .close])
        Expect.socket(.connection(on: "client", port: 8080), neverIn: .finWait2)
        Expect.socket(.connection(on: "client", port: 8080), reaches: .close, within: 10)
    }
}
