import Netfault

extension Catalog {
    static let lostThirdAck = Scenario(
        "H6", "Third ACK lost: the server retransmits SYN-ACK at 1, 3, 7 s",
        summary: """
            Every handshake ACK from the client is dropped. The server stays in SYN_RECV and sends \
            the SYN-ACK again after 1 s, then 2 s, then 4 s (the initial 1 s timeout doubling); the \
            client, already ESTABLISHED, answers each with the same ACK. So the retransmissions come \
            at 1, 3 and 7 s after the first SYN-ACK — not at 3, 6 and 12 s as note 000 says.
            """,
        claim: "A server whose third ACK is lost stays SYN_RCVD and retransmits the SYN-ACK at 3, 6 and 12 s (000).",
        verdict: .refuted,
        timeLimit: 20
    ) {
        Host("client")
        Host("server")
        Link("client", "server", subnet: "10.77.6.0/24")
        Drop(.handshakeAck, at: .link(from: "client", to: "server"), name: "handshake ACKs")
        Peer("server", on: "server", .listen(port: 8080), .hold)
        WaitFor(.listener(on: "server", port: 8080), in: .listen, timeout: 2)
        Peer("client", on: "client", .connect(to: "server", port: 8080), .hold)
        Wait(8.5)
        // The request's timer starts when the SYN arrives, just before the first SYN-ACK leaves:
        // the schedule is timed from that arrival (the server's capture). The client's ACKs answer
        // each SYN-ACK within a round trip, so they keep its schedule.
        Expect.segments(.synAck, from: "server", at: .seconds([0, 1, 3, 7]))
        Expect.segments(.synAck, from: "server", spacedBy: [1, 2, 4])
        Expect.fault("handshake ACKs", acted: .equals(4))
        Expect.counter("TcpExtTCPSynRetrans", on: "server", .equals(3))
        Expect.socket(.connection(on: "server", port: 8080), endsIn: .synRecv)
        Expect.socket(.connection(on: "client", port: 8080), endsIn: .established)
    }
}
