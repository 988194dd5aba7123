// What the kernel's own events show: drops with their reason, retransmissions as they left.
import Netfault

let overflow = Scenario("overflow", "A full accept queue drops the final ACK") {
    Host("client")
    Host("server")
    Link("client", "server", subnet: "10.77.63.0/24")
    Peer("server", on: "server", .listen(port: 5001, backlog: 0), .hold)
    WaitFor(.listener(on: "server", port: 5001), in: .listen, timeout: 2)
    Peer("first", on: "client", .connect(to: "server", port: 5001), .hold)
    Wait(0.2)
    Peer("second", on: "client", .connect(to: "server", port: 5001), .hold)
    Wait(4)
    Expect.kernelDrops(on: "server", reason: "TCP_LISTEN_OVERFLOW", port: 5001, count: .atLeast(1))
    Expect.retransmissions(.synAck, from: "server", port: 5001, at: .seconds([0, 1, 3]))
}
// snippet.hide
_ = overflow
