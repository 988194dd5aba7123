import Foundation
import Netfault
import NetfaultCLI

// `netfault-fixtures`: netfault's command line over scenarios for the CLI tests and
// scripts/reliability: one that holds every kind of resource a run makes, to be interrupted,
// and many that are wrong on purpose, one bad input each, which must be refused with a
// message naming what and where: exit 2 (the scenario) or 3 (this machine).

/// Two hosts on one link, the body's own steps after them (subnet 10.77.97.0/24).
func pair(_ id: String, _ name: String, file: String = #filePath, line: Int = #line,
          @ScenarioBuilder _ body: () -> [ScenarioElement]) -> Scenario {
    Scenario(id, name, timeLimit: 10, file: file, line: line) {
        Host("client")
        Host("server")
        Link("client", "server", subnet: "10.77.97.0/24")
        body()
    }
}

/// A file with the executable bit that is not a program (committed so, next to this one):
/// exec fails with ENOEXEC, which no lookup before the run can tell.
let notAProgram = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("not-a-program").path

let fixtures: [Scenario] = [
    // Sockets in several states, a program with a child of its own (which the orchestrator's
    // death signal does not reach), fault rules with a queue, an impairment, captures: then 20 s
    // of waiting, for a signal to arrive.
    Scenario("hold-everything", "every kind of resource a run makes, held for 20 s", timeLimit: 30) {
        Host("client")
        Host("router", forwarding: true)
        Host("server")
        Link("client", "router", subnet: "10.77.93.0/24", ipv6Subnet: "fd77:93::/64")
        Link("router", "server", subnet: "10.77.94.0/24", ipv6Subnet: "fd77:94::/64")
        Sysctl("server", "net.ipv4.tcp_fin_timeout", 5)
        Peer("server", on: "server", .listen(port: 8080), .repeat(3, [.accept]), .hold)
        WaitFor(.listener(on: "server", port: 8080), in: .listen, timeout: 2)
        Peer("client", on: "client", .repeat(3, [.connect(to: "server", port: 8080)]), .hold)
        Command("program", on: "server", ["sh", "-c", "sleep 60 & sleep 60"])
        Delay(.data, by: 0.1, at: .egress(of: "client"))
        Impair(from: "router", to: "server", delay: 0.001)
        Wait(20)
    },
    pair("expectation-fails", "an expectation the kernel does not meet (a closed port refuses)") {
        Peer("client", on: "client", .connect(to: "server", port: 9))
        WaitFor(exitOf: "client", timeout: 2)
        Expect.peer("client", succeeds: "connect")
    },
    pair("process-crashes", "a program crashes (SIGSEGV) while a connection is open") {
        Peer("server", on: "server", .listen(port: 8080), .accept, .hold)
        WaitFor(.listener(on: "server", port: 8080), in: .listen, timeout: 2)
        Peer("client", on: "client", .connect(to: "server", port: 8080), .hold)
        Command("crasher", on: "server", ["sh", "-c", "sleep 0.2; kill -SEGV $$"])
        WaitFor(exitOf: "crasher", timeout: 5)
        Expect.exitStatus(of: "crasher", is: 128 + 11)
    },
    Scenario("too-many-hosts", "10,000 hosts, beyond what one machine builds in seconds") {
        for index in 0..<10_000 { Host("h\(index)") }
    },
    pair("duplicate-host", "two hosts with one name") { Host("server") },
    pair("unknown-host", "a link to a host that does not exist") {
        Host("lonely")
        Link("client", "sever", subnet: "10.77.96.0/24")
    },
    pair("address-on-two-hosts", "two links on overlapping subnets") {
        Host("third")
        Link("server", "third", subnet: "10.77.97.0/25")
    },
    Scenario("outside-test-range", "a subnet outside 10.77.0.0/16") {
        Host("client")
        Host("server")
        Link("client", "server", subnet: "192.168.7.0/24")
    },
    pair("port-in-use", "two listeners on one port of one host") {
        Peer("first", on: "server", .listen(port: 8080), .hold)
        Peer("second", on: "server", .listen(port: 8080), .hold)
    },
    pair("missing-program", "a command whose program does not exist") {
        Command("tool", on: "client", ["netfault-no-such-program", "--help"])
    },
    pair("unknown-sysctl", "a sysctl this kernel does not have") {
        Sysctl("client", "net.ipv4.tcp_no_such_setting", 1)
    },
    pair("rejected-sysctl-value", "a sysctl value the kernel rejects") {
        Sysctl("client", "net.ipv4.tcp_syn_retries", 1000)
    },
    pair("fault-unknown-host", "a fault on a host that does not exist") {
        Drop(.syn, at: .egress(of: "nobody"))
    },
    pair("fault-unknown-link", "a fault on a link that does not exist") {
        Host("lonely")
        Drop(.syn, at: .link(from: "client", to: "lonely"))
    },
    pair("fault-occurrence-zero", "a fault on the 0th segment") {
        Drop(.synAck, at: .egress(of: "server"), .nth(0))
    },
    pair("fault-negative-delay", "a negative delay") {
        Delay(.fin, by: -0.1, at: .egress(of: "client"))
    },
    pair("fault-beyond-fq-horizon", "a delay fq cannot hold") {
        Delay(.fin, by: 5000, at: .egress(of: "client"))
    },
    // Valid, but count-based reordering never runs in the kernel: `--fault-backend bpf` refuses it (exit 4).
    pair("fault-reorder-count", "a count-based reordering") {
        Reorder(.data, releaseAfter: 2, at: .egress(of: "client"))
    },
    pair("impairment-negative-rate", "a negative rate") {
        Impair(from: "client", to: "server", rate: -5)
    },
    pair("impairment-loss-over-100", "a loss netem would reject") {
        Impair(from: "client", to: "server", loss: 150)
    },
    pair("program-cannot-start", "a command whose program the kernel cannot execute") {
        Command("tool", on: "client", [notAProgram])
        Wait(0.1)
    },
    pair("bad-working-directory", "a command whose working directory does not exist") {
        Command("tool", on: "client", ["true"], workingDirectory: "/nonexistent/netfault-directory")
    },
    pair("invalid-output-pattern", "a readiness pattern that is not a regular expression") {
        Command("tool", on: "client", ["true"])
        WaitFor(output: "(unclosed", of: "tool")
    },
    pair("program-exits-before-ready", "a server that exits before printing its ready line") {
        Command("server", on: "server", ["sh", "-c", "echo 'bad config' >&2; exit 3"])
        WaitFor(output: "ready", of: "server", timeout: 5)
    },
    // A program's output, recorded and checked: JSON, artifacts, readiness, a check of one's own.
    pair("program-output", "a program's output, read to the end and checked") {
        Command("writer", on: "server", ["sh", "-c", "echo ready; seq 1 100000; echo done >&2"],
                environment: .adding(["LC_ALL": "C"]))
        WaitFor(output: "^ready$", of: "writer", timeout: 5)
        WaitFor(exitOf: "writer", timeout: 10)
        Expect.output(of: "writer", contains: "done", in: .stderr)
        Expect.process("writer", exits: 0, tookAtMost: 10)
        Expect.that("the writer printed 100000 numbers") { result in
            let tail = result.process("writer")?.stdout.tail ?? ""
            return tail.hasSuffix("\n100000\n") ? .pass("ends with 100000") : .fail("ends with \(tail.suffix(20))")
        }
    },
    pair("peer-exits-early", "a server that exits before it listens (its backend refuses it)") {
        Peer("server", on: "server", .connect(to: "client", port: 9), .listen(port: 8080), .hold)
        WaitFor(.listener(on: "server", port: 8080), in: .listen, timeout: 1)
        Peer("client", on: "client", .connect(to: "server", port: 8080), .close)
    },
]

NetfaultCLI.main(catalog: fixtures)
