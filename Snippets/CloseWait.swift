// Topology, sysctls, processes and steps: CLOSE_WAIT piles up when the server never closes.
import Netfault

let closeWait = Scenario("C8", "CLOSE_WAIT piles up when the application never closes") {
    Host("client")
    Host("server")
    Link("client", "server", subnet: "10.77.18.0/24")        // client .1, server .2
    Sysctl("client", "net.ipv4.tcp_fin_timeout", 2)           // per-namespace sysctl
    Peer("server", on: "server", .listen(port: 8080), .repeat(5, [.accept, .readToEnd]), .hold)
    WaitFor(.listener(on: "server", port: 8080), in: .listen, timeout: 2)
    Peer("client", on: "client", .repeat(5, [.connect(to: "server", port: 8080), .close]), .hold)
    WaitFor(.connection(on: "client", port: 8080), in: .close, timeout: 5)
    Wait(0.5)
    Expect.sockets(on: "server", in: .closeWait, port: 8080, count: .equals(5))
    Expect.socket(.connection(on: "server", port: 8080), endsIn: .closeWait)
    Expect.socket(.connection(on: "client", port: 8080), staysIn: .finWait2, for: 2)
    Expect.sockets(on: "client", in: .finWait2, port: 8080, count: .equals(0))
}
// snippet.hide
_ = closeWait
