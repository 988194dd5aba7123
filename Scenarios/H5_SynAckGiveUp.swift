import Netfault

extension Catalog {
    static let synAckGiveUp = Scenario(
        "H5", "The server gives up on an unacknowledged SYN-ACK",
        summary: """
            Every handshake ACK from the client is dropped, so the server's request socket never \
            completes. With tcp_synack_retries=2 the server sends SYN-ACKs at 0, 1 and 3 s (the \
            client answers each with an ACK, which is dropped too) and frees the request about \
            7 s after the first. tcp_syn_linear_timeouts does not apply to SYN-ACKs.
            """,
        claim: "The server retransmits an unacknowledged SYN-ACK a configurable number of times, then frees its resources (000).",
        timeLimit: 20
    ) {
        Host("client")
        Host("server")
        Link("client", "server", subnet: "10.77.5.0/24")
        Sysctl("server", "net.ipv4.tcp_synack_retries", 2)
        Drop(.handshakeAck, at: .link(from: "client", to: "server"), name: "handshake ACKs")
        Peer("server", on: "server", .listen(port: 8080), .hold)
        WaitFor(.listener(on: "server", port: 8080), in: .listen, timeout: 2)
        Peer("client", on: "client", .connect(to: "server", port: 8080), .hold)
        WaitFor(.connection(on: "server", port: 8080), in: .close, timeout: 12)
        Expect.segments(.synAck, from: "server", at: .synAckRetransmissions(on: "server"))
        Expect.counter("TcpExtTCPSynRetrans", on: "server", .equals(2))
        // Freed when the third timeout (4 s) ends: 1 + 2 + 4 s after the first SYN-ACK.
        Expect.socket(.connection(on: "server", port: 8080), staysIn: .synRecv, for: 7)
        Expect.socket(.connection(on: "server", port: 8080), endsIn: .close)
        Expect.socket(.connection(on: "client", port: 8080), endsIn: .established)
    }
}
