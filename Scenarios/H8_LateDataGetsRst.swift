import Netfault

extension Catalog {
    static let lateDataGetsRst = Scenario(
        "H8", "Third ACK lost, data after the server gave up: RST",
        summary: """
            Every handshake ACK is dropped and the client stays silent until the server has freed \
            its request socket (tcp_synack_retries=1: SYN-ACKs at 0 and 1 s, freed at 3 s). The \
            data that then arrives finds only the listener, which answers an ACK it does not know \
            with RST; the client's next read fails with ECONNRESET. This is the case where note \
            000's claim holds.
            """,
        claim: "If the third ACK is lost and the client sends data, the server answers with RST (000).",
        timeLimit: 15
    ) {
        Host("client")
        Host("server")
        Link("client", "server", subnet: "10.77.8.0/24")
        Sysctl("server", "net.ipv4.tcp_synack_retries", 1)
        Drop(.handshakeAck, at: .link(from: "client", to: "server"), name: "handshake ACKs")
        Peer("server", on: "server", .listen(port: 8080), .hold)
        WaitFor(.listener(on: "server", port: 8080), in: .listen, timeout: 2)
        Peer("client", on: "client", .connect(to: "server", port: 8080), .sleep(4), .write(bytes: 5), .read(bytes: 1))
        WaitFor(exitOf: "client", timeout: 8)
        Expect.segments(.synAck, from: "server", at: .synAckRetransmissions(on: "server"))
        Expect.segments(.rst, from: "server", count: .atLeast(1))
        // Freed when the second timeout (2 s) ends: 1 + 2 s after the first SYN-ACK.
        Expect.socket(.connection(on: "server", port: 8080), staysIn: .synRecv, for: 3)
        Expect.counter("TcpOutRsts", on: "server", .atLeast(1))
        Expect.peer("client", fails: "read", with: "ECONNRESET")
    }
}
