import Netfault

extension Catalog {
    static let dataCompletesHandshake = Scenario(
        "H7", "Third ACK lost, then data: no RST",
        summary: """
            The client's handshake ACK is dropped and the client then sends data. The data segment \
            carries a valid ACK, which completes the handshake on the server: no RST, accept() \
            returns and the data is read. Note 000's claim (an RST) does not hold on Linux; H8 \
            shows the case where it does.
            """,
        claim: "If the third ACK is lost and the client sends data, the server answers with RST (000).",
        verdict: .refuted
    ) {
        Host("client")
        Host("server")
        Link("client", "server", subnet: "10.77.7.0/24")
        Drop(.handshakeAck, at: .link(from: "client", to: "server"), name: "handshake ACK")
        Peer("server", on: "server", .listen(port: 8080), .accept, .read(bytes: 5), .sleep(0.1), .close)
        WaitFor(.listener(on: "server", port: 8080), in: .listen, timeout: 2)
        // The pause keeps the request in SYN_RECV long enough to be sampled, well before the 1 s SYN-ACK timer.
        Peer("client", on: "client", .connect(to: "server", port: 8080), .sleep(0.2), .write(bytes: 5), .readToEnd, .close)
        WaitFor(exitOf: "client", timeout: 5)
        Expect.fault("handshake ACK", acted: .equals(1))
        Expect.socket(.connection(on: "server", port: 8080), passesThrough: [.synRecv, .established])
        Expect.peer("server", succeeds: "accept")
        Expect.peer("server", succeeds: "read", result: 5)
        Expect.counter("TcpOutRsts", on: "server", .equals(0))
        Expect.noSegments(.rst, from: "server")
        Expect.segments(.synAck, from: "server", count: .equals(1))
        Expect.counter("TcpExtTCPSynRetrans", on: "server", .equals(0))
    }
}
