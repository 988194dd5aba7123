import Netfault

extension Catalog {
    static let nagle = Scenario(
        "K4", "Nagle merges small writes; TCP_NODELAY does not",
        summary: """
            Two clients each make 100 writes of 5 bytes, back to back. With Nagle's algorithm \
            (the default) a small segment waits while an earlier one is unacknowledged, and the \
            writes made meanwhile leave merged: far fewer data segments than writes. The server's \
            ACKs to that client are held 50 ms, so data stays unacknowledged however fast or slow \
            the machine writes (on a fast one the ACKs alone would come too late to matter). With \
            TCP_NODELAY each write leaves at once while the congestion window allows; once it is \
            full, writes merge too. The receiver reads all 500 bytes, write boundaries gone.
            """,
        claim: "Nagle merges small writes (\"sticky packets\"); writes larger than the MSS are split (000, 003)."
    ) {
        Host("nagle")
        Host("nodelay")
        Host("server")
        Link("nagle", "server", subnet: "10.77.34.0/24")
        Link("nodelay", "server", subnet: "10.77.35.0/24")
        // Autocorking would also merge writes while a segment waits in a queue; off, so
        // what merges here is Nagle alone.
        Sysctl("nagle", "net.ipv4.tcp_autocorking", 0)
        Sysctl("nodelay", "net.ipv4.tcp_autocorking", 0)
        // Longer than 100 small writes take even in an emulated VM: every write after the first
        // meets unacknowledged data.
        Delay(.pureAck, by: 0.05, at: .link(from: "server", to: "nagle"), name: "slow ACKs")
        Peer("sink1", on: "server", .listen(port: 8080), .accept, .readToEnd, .hold)
        Peer("sink2", on: "server", .listen(port: 8081), .accept, .readToEnd, .hold)
        WaitFor(.listener(on: "server", port: 8081), in: .listen, timeout: 2)
        Peer("merged", on: "nagle", .connect(to: "10.77.34.2", port: 8080), .write(bytes: 500, writes: 100), .close, .hold)
        Peer("split", on: "nodelay", .connect(to: "10.77.35.2", port: 8081), .noDelay, .write(bytes: 500, writes: 100), .close, .hold)
        Wait(0.5)
        // TCPOrigDataSent counts new data segments, the FIN included: 101 if nothing merged.
        // With Nagle, one segment per 50 ms ACK round: 2–4 data segments (writes take well
        // under 0.2 s), 10 allows a slow machine. With TCP_NODELAY each write leaves alone until
        // the initial congestion window (10 segments) is in flight unacknowledged; then later
        // writes join the unsent tail segment, with or without Nagle. So at least 10 + 1, however
        // the ACKs race the writes: 43–101 measured here, 27 in an emulated 5.10 VM whose
        // receiver acknowledged 10 in-flight segments only after the writer had made its last
        // 74 writes (one 370-byte segment with the FIN; every segment before it one write).
        Expect.counter("TcpExtTCPOrigDataSent", on: "nagle", .atMost(10))
        Expect.segments(.data, from: "nagle", count: .atMost(10))
        Expect.counter("TcpExtTCPOrigDataSent", on: "nodelay", .atLeast(11))
        Expect.segments(.data, from: "nodelay", count: .atLeast(11))
        Expect.peer("sink1", succeeds: "read", result: 500)
        Expect.peer("sink2", succeeds: "read", result: 500)
    }
}
