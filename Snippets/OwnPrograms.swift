// Real programs: curl against python3's http.server, the first SYN-ACK dropped.
import Netfault

let curl = Scenario("curl-1", "curl connects after the lost SYN-ACK is sent again") {
    Host("client")
    Host("server")
    Link("client", "server", subnet: "10.77.60.0/24")
    Drop(.synAck, at: .link(from: "server", to: "client"), .nth(1), name: "first SYN-ACK")
    Command("server", on: "server", ["python3", "-u", "-m", "http.server", "8000"], workingDirectory: "/srv")
    WaitFor(output: "Serving HTTP on .* port 8000", of: "server", timeout: 5)
    Command("curl", on: "client", ["curl", "-sS", "-o", "/dev/null", "-w", "%{time_connect}\\n", "http://10.77.60.2:8000/"],
            environment: .adding(["LC_ALL": "C"]))
    WaitFor(exitOf: "curl", timeout: 10)
    Expect.process("curl", exits: 0, tookAtMost: 3)
    Expect.output(of: "curl", matches: #"^1\.\d+$"#)
    Expect.output(of: "server", contains: "\"GET / HTTP/1.1\" 200", in: .stderr)
    Expect.that("curl connected after the SYN-ACK retransmission") { result in
        let text = result.process("curl")?.stdout.text.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard let seconds = Double(text) else { return .fail("time_connect not printed: \"\(text)\"") }
        return seconds >= 1 ? .pass("time_connect \(seconds) s") : .fail("time_connect \(seconds) s")
    }
}
// snippet.hide
// Declarations only: Tests/NetfaultTests/Kernel/Snippets/ links this file into the tests, which
// run it as root (a test target's files cannot hold top-level statements).
