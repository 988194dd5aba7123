import Netfault

extension Catalog {
    static let serverTimeWait = Scenario(
        "C12", "A server that closes first collects TIME_WAIT",
        summary: """
            Port 8080 serves like HTTP without keep-alive: one request per connection and the \
            server closes first, so every request leaves a TIME_WAIT socket on the server (five \
            here). Port 8081 keeps one connection for all five requests and lets the client \
            close: the server keeps no TIME_WAIT at all.
            """,
        claim: "A server that closes first (HTTP without keep-alive) accumulates TIME_WAIT (002, 004)."
    ) {
        Host("client")
        Host("server")
        Link("client", "server", subnet: "10.77.22.0/24")
        // A client's ACK of the FIN and its own FIN can leave from different CPUs and arrive
        // swapped; the late ACK then draws a RST from the closed client, and a RST ends TIME_WAIT
        // unless RFC 1337's rule is on (as C7 measured). With it the server keeps all five.
        Sysctl("server", "net.ipv4.tcp_rfc1337", 1)
        Peer("closer", on: "server", .listen(port: 8080),
             .repeat(5, [.accept, .read(bytes: 10), .write(bytes: 100), .close]), .hold)
        Peer("keepalive", on: "server", .listen(port: 8081), .accept,
             .repeat(5, [.read(bytes: 10), .write(bytes: 100)]), .readToEnd, .close, .hold)
        WaitFor(.listener(on: "server", port: 8081), in: .listen, timeout: 2)
        Peer("oneshot", on: "client",
             .repeat(5, [.connect(to: "server", port: 8080), .write(bytes: 10), .readToEnd, .close]), .hold)
        Peer("persistent", on: "client", .connect(to: "server", port: 8081),
             .repeat(5, [.write(bytes: 10), .read(bytes: 100)]), .close, .hold)
        Wait(0.5)
        Expect.sockets(on: "server", in: .timeWait, port: 8080, count: .equals(5))
        Expect.sockets(on: "client", in: .timeWait, port: 8080, count: .equals(0))
        Expect.sockets(on: "server", in: .timeWait, port: 8081, count: .equals(0))
        Expect.sockets(on: "client", in: .timeWait, port: 8081, count: .equals(1))
    }
}
