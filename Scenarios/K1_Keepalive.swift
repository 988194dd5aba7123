import Netfault

extension Catalog {
    static let keepalive = Scenario(
        "K1", "Keepalive declares a vanished peer dead",
        summary: """
            The client enables keepalive (idle 1 s, interval 1 s, 3 probes) and blocks in read(); \
            the server vanishes right after the handshake (every later segment to and from it is \
            dropped). The client \
            sends a probe after 1 s idle, \
            then one every second; when the third goes unanswered for an interval it sends RST and \
            read() fails with ETIMEDOUT, 4 s after the last activity.
            """,
        claim: "After an idle period keepalive probes are sent at an interval; after several unanswered probes the connection is declared dead (002, 004).",
        timeLimit: 15
    ) {
        Host("client")
        Host("server")
        Link("client", "server", subnet: "10.77.31.0/24")
        // Counted per flow and direction: the SYN and the handshake ACK pass, then nothing does.
        Drop(.any, at: .ingress(of: "server"), .afterNth(2), name: "to the server")
        Drop(.any, at: .egress(of: "server"), .afterNth(1), name: "from the server")
        Peer("server", on: "server", .listen(port: 8080), .accept, .hold)
        WaitFor(.listener(on: "server", port: 8080), in: .listen, timeout: 2)
        Peer("client", on: "client", .connect(to: "server", port: 8080), .keepalive(idle: 1, interval: 1, count: 3), .read(bytes: 1))
        WaitFor(exitOf: "client", timeout: 10)
        // Three probes a second apart, then the RST that goes with giving up.
        Expect.fault("to the server", actedAt: .seconds([0, 1, 2, 3], givingUpAt: 3), tolerance: .queueStamped,
                     givingUp: PeerCall("client", "read"))
        Expect.peer("client", fails: "read", with: "ETIMEDOUT")
    }
}
