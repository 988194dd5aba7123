// Your own catalog behind netfault's command line (list, show, run, claims, up, report, …).
import Netfault
import NetfaultCLI

let refused = Scenario("refused", "A SYN to a closed port gets RST") {
    Host("client")
    Host("server")
    Link("client", "server", subnet: "10.77.250.0/24")
    Peer("client", on: "client", .connect(to: "server", port: 9))
    WaitFor(exitOf: "client", timeout: 2)
    Expect.peer("client", fails: "connect", with: "ECONNREFUSED", tookAtMost: 0.2)
}
NetfaultCLI.main(catalog: [refused])
