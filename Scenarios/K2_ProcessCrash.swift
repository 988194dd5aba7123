import Netfault

extension Catalog {
    static let processCrash = Scenario(
        "K2", "A crashed process's connections: FIN, or RST with unread data",
        summary: """
            Two servers exit abruptly without closing their sockets; the kernel closes them. \
            The one with nothing unread sends a FIN, so its client reads end-of-file. The one \
            with 100 unread bytes in its receive buffer sends a RST instead (RFC 2525 data loss \
            rule), so its client's read fails with ECONNRESET.
            """,
        claim: "When the server process crashes, the kernel closes its connections with a normal close (002).",
        verdict: .partly
    ) {
        Host("client")
        Host("server")
        Link("client", "server", subnet: "10.77.32.0/24")
        Peer("clean", on: "server", .listen(port: 8080), .accept, .sleep(0.2), .exit(status: 3))
        Peer("unread", on: "server", .listen(port: 8081), .accept, .sleep(0.2), .exit(status: 3))
        WaitFor(.listener(on: "server", port: 8081), in: .listen, timeout: 2)
        Peer("reader", on: "client", .connect(to: "server", port: 8080), .readToEnd, .hold)
        Peer("writer", on: "client", .connect(to: "server", port: 8081), .write(bytes: 100), .readToEnd, .hold)
        WaitFor(exitOf: "unread", timeout: 3)
        Wait(0.1)
        Expect.exitStatus(of: "clean", is: 3)
        Expect.peer("reader", succeeds: "read", result: 0, after: 0.2)
        Expect.peer("writer", fails: "read", with: "ECONNRESET", after: 0.2)
        Expect.counter("TcpOutRsts", on: "server", .equals(1))
        Expect.socket(.connection(on: "client", port: 8080), endsIn: .closeWait)
    }
}
