// Faults aimed at exact segments, and a link-wide impairment.
import Netfault

let faults = Scenario("faults", "A lost SYN-ACK, a slow FIN and a lossy link") {
    Host("client")
    Host("server")
    Link("client", "server", subnet: "10.77.61.0/24")
    // The second SYN-ACK from server to client is dropped.
    Drop(.synAck, at: .link(from: "server", to: "client"), .nth(2), name: "second SYN-ACK")
    // The client's first FIN leaves 0.3 s late.
    Delay(.fin, by: 0.3, at: .egress(of: "client"), .first(1), name: "slow FIN")
    // Every third data segment to port 8080 arrives twice.
    Duplicate(.data, at: .ingress(of: "server"), .everyNth(3), port: 8080, name: "twice")
    // Like netem, on one direction of a link: netem where the kernel has it.
    Impair(from: "client", to: "server", delay: 0.02, jitter: 0.005, loss: 5)
    Peer("server", on: "server", .listen(port: 8080), .accept, .readToEnd, .close)
    WaitFor(.listener(on: "server", port: 8080), in: .listen, timeout: 2)
    Peer("client", on: "client", .connect(to: "server", port: 8080), .write(bytes: 30_000), .close)
    WaitFor(exitOf: "client", timeout: 20)
    Expect.fault("slow FIN", acted: .equals(1))
    Expect.sameSequence(of: "second SYN-ACK")
}

// A partition both ways between 1 s and 3 s, and a host that vanishes from 0.5 s on.
let cut = Scenario("cut", "A partition, then a blackhole") {
    Host("client")
    Host("server")
    Link("client", "server", subnet: "10.77.62.0/24")
    Partition("client", "server", from: 1, to: 3, name: "cut")
    Blackhole("server", from: 0.5, name: "gone")
}
// snippet.hide
_ = (faults, cut)
