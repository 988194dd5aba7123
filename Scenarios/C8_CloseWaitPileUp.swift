import Netfault

extension Catalog {
    static let closeWaitPileUp = Scenario(
        "C8", "CLOSE_WAIT piles up when the application never closes",
        summary: """
            Five clients connect and close; the server reads end-of-file but never calls close(). \
            Its five sockets stay in CLOSE_WAIT for as long as the process lives, while the \
            clients' orphaned FIN_WAIT2 sockets end after tcp_fin_timeout (shortened to 2 s here \
            on the client, from the default 60 s; the behaviour is the same).
            """,
        claim: "When the passive side's application never calls close(), sockets accumulate in CLOSE_WAIT (000's MySQL story, 002, 004)."
    ) {
        Host("client")
        Host("server")
        Link("client", "server", subnet: "10.77.18.0/24")
        Sysctl("client", "net.ipv4.tcp_fin_timeout", 2)
        Peer("server", on: "server", .listen(port: 8080), .repeat(5, [.accept, .readToEnd]), .hold)
        WaitFor(.listener(on: "server", port: 8080), in: .listen, timeout: 2)
        Peer("client", on: "client", .repeat(5, [.connect(to: "server", port: 8080), .close]), .hold)
        WaitFor(.connection(on: "client", port: 8080), in: .close, timeout: 5)
        Wait(0.5)
        Expect.sockets(on: "server", in: .closeWait, port: 8080, count: .equals(5))
        Expect.socket(.connection(on: "server", port: 8080), endsIn: .closeWait)
        // Orphaned FIN_WAIT2 becomes a timewait socket (shown as FIN_WAIT2) for
        // tcp_fin_timeout; the 2 s timer is on wheel level 2 (64-jiffy granules, 256 ms late at most).
        Expect.socket(.connection(on: "client", port: 8080), staysIn: .finWait2, for: 2)
        Expect.sockets(on: "client", in: .finWait2, port: 8080, count: .equals(0))
    }
}
