import Netfault

extension Catalog {
    static let mss = Scenario(
        "K5", "MSS is the MTU minus 40 bytes of headers",
        summary: """
            On links with an MTU of 576 each side advertises an MSS of 536 (576 − 20 IPv4 − 20 \
            TCP). With TCP timestamps off that is the payload per segment (tcp_info snd_mss and \
            advmss 536); with timestamps on (Linux's default) their 12 option bytes leave 524. \
            10,000 bytes therefore go out as at least 19 segments, and IP never fragments.
            """,
        claim: "MSS = MTU − IP and TCP headers; TCP segments data instead of letting IP fragment (002)."
    ) {
        Host("client")
        Host("server")
        Host("plain")
        Host("plainsrv")
        Link("client", "server", subnet: "10.77.36.0/24", mtu: 576)
        Link("plain", "plainsrv", subnet: "10.77.39.0/24", mtu: 576)
        Sysctl("plain", "net.ipv4.tcp_timestamps", 0)
        Peer("sink", on: "server", .listen(port: 8080), .accept, .read(bytes: 10_000), .hold)
        Peer("plainsink", on: "plainsrv", .listen(port: 8080), .accept, .readToEnd, .hold)
        WaitFor(.listener(on: "plainsrv", port: 8080), in: .listen, timeout: 2)
        Peer("bulk", on: "client", .connect(to: "server", port: 8080), .write(bytes: 10_000), .sleep(0.1), .hold)
        Peer("plainbulk", on: "plain", .connect(to: "plainsrv", port: 8080), .write(bytes: 10_000), .sleep(0.1), .hold)
        Wait(0.3)
        Expect.socket(.connection(on: "plain", port: 8080), .advertisedMSS, .equals(536))
        Expect.socket(.connection(on: "plain", port: 8080), .sendMSS, .equals(536))
        // advmss drops by the 12 option bytes once timestamps are agreed.
        Expect.socket(.connection(on: "client", port: 8080), .advertisedMSS, .equals(524))
        Expect.socket(.connection(on: "client", port: 8080), .sendMSS, .equals(524))
        Expect.peer("sink", succeeds: "read", result: 10_000)
        Expect.counter("TcpExtTCPOrigDataSent", on: "client", .atLeast(20))
        Expect.counter("TcpExtTCPOrigDataSent", on: "plain", .atLeast(19))
        Expect.counter("IpFragCreates", on: "client", .equals(0))
        Expect.segment(.syn, from: "plain", mss: 536)
        Expect.segments(.data, from: "plain", lengthAtMost: 536)
    }
}
