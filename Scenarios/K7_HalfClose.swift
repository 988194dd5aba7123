import Netfault

extension Catalog {
    static let halfClose = Scenario(
        "K7", "Half-close: after shutdown(SHUT_WR) the other way still works",
        summary: """
            The client sends 100 bytes and shuts down its sending side: its socket goes to \
            FIN_WAIT2 and the server's to CLOSE_WAIT. The server, having read end-of-file, still \
            sends 1,000 bytes 200 ms later, and the client receives them all before the server closes.
            """,
        claim: "One side can stop sending with shutdown and still receive (000)."
    ) {
        Host("client")
        Host("server")
        Link("client", "server", subnet: "10.77.38.0/24")
        Peer("server", on: "server", .listen(port: 8080), .accept, .readToEnd, .sleep(0.2), .write(bytes: 1000), .close, .hold)
        WaitFor(.listener(on: "server", port: 8080), in: .listen, timeout: 2)
        // 0.5 s in ESTABLISHED before the shutdown: in a VM with emulated CPUs the sampler, starved
        // while the peers start, first saw the client's socket 0.17 s after its connect (5.10 and
        // 6.1, one scenario at a time), already in FIN_WAIT1 when the shutdown came after 0.1 s.
        Peer("client", on: "client", .connect(to: "server", port: 8080), .write(bytes: 100), .sleep(0.5), .shutdownWrite,
             .readToEnd, .close, .hold)
        WaitFor(.connection(on: "client", port: 8080), in: .timeWait, timeout: 3)
        Expect.peer("server", succeeds: "read", result: 100)
        Expect.peer("server", succeeds: "write", result: 1000)
        Expect.peer("client", succeeds: "read", result: 1000)
        Expect.socket(.connection(on: "client", port: 8080), passesThrough: [.established, .finWait2, .timeWait])
        Expect.socket(.connection(on: "server", port: 8080), passesThrough: [.established, .closeWait])
    }
}
