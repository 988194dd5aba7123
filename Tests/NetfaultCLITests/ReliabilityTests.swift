import Foundation
import Testing

/// Bad input is refused with what and where (exit 2 or 3); signals, crashes and a second
/// orchestrator leave nothing behind. The scenarios are Tests/Fixtures' (`netfault-fixtures`);
/// scripts/reliability runs the same checks and prints them as a table.
@Suite struct BadInputTests {
    /// Each is refused by validation, before anything is built and before the root check.
    @Test(arguments: [
        ("too-many-hosts", "10000 hosts is beyond the limit of 64"),
        ("duplicate-host", "two hosts named \"server\""),
        ("unknown-host", "link names unknown host \"sever\""),
        ("address-on-two-hosts", "would be on two hosts"),
        ("outside-test-range", "is outside 10.77.0.0/16"),
        ("port-in-use", "port 8080 on server is already in use"),
        ("missing-program", "program \"netfault-no-such-program\" was not found"),
        ("fault-unknown-host", "fault names unknown host \"nobody\""),
        ("fault-unknown-link", "there is no link between client and lonely"),
        ("fault-occurrence-zero", "must count from 1"),
        ("fault-negative-delay", "delay must be zero or more seconds"),
        ("fault-beyond-fq-horizon", "is beyond what fq can hold"),
        ("impairment-negative-rate", "rate must be a positive number"),
        ("impairment-loss-over-100", "loss 150.0 % is outside 0…100 %"),
        ("bad-working-directory", "command tool: working directory /nonexistent/netfault-directory does not exist"),
        ("invalid-output-pattern", "/(unclosed/ is not a valid regular expression"),
    ])
    func refusedBeforeAnythingIsBuilt(id: String, message: String) throws {
        let result = try CLI.run(["run", id], binary: CLI.fixtures)
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("scenario \(id) is invalid"), "\(result)")
        #expect(result.stderr.contains(message), "\(result)")
        // Where: the fixture's file and the line of the offending element.
        #expect(result.stderr.range(of: #"Tests/Fixtures/main\.swift:\d+: "#, options: .regularExpression) != nil, "\(result)")
        #expect(result.stdout.isEmpty, "nothing ran: \(result)")
    }

    /// The kernel judges sysctls in a scratch namespace, so these need root.
    @Test(.enabled(if: isRoot, "needs root"), arguments: [
        ("unknown-sysctl", "sysctl net.ipv4.tcp_no_such_setting does not exist on this kernel"),
        ("rejected-sysctl-value", "the kernel rejects net.ipv4.tcp_syn_retries = 1000: EINVAL"),
    ])
    func refusedByTheKernel(id: String, message: String) throws {
        let result = try CLI.run(["run", id], binary: CLI.fixtures)
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains(message), "\(result)")
    }

    /// Only a run can find these out; the scenario is still what is wrong (exit 2), and
    /// the message says which step and why.
    @Test(.enabled(if: isRoot, "needs root"), arguments: [
        ("program-cannot-start", "Exec format error (ENOEXEC)"),
        ("peer-exits-early", "server exited early, exit status 1 at"),
        ("program-exits-before-ready", "server's output had no line that matches /ready/: it exited with exit status 3"),
    ])
    func scenarioErrorsFoundWhileRunning(id: String, message: String) throws {
        let json = CLI.temporaryFile("\(id).json")
        defer { try? FileManager.default.removeItem(at: json) }
        let result = try CLI.run(["run", id, "--json", json.path], binary: CLI.fixtures)
        #expect(result.status == 2, "\(result)")
        #expect(result.stdout.contains(message), "\(result)")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any]
        let scenario = try #require((object?["scenarios"] as? [[String: Any]])?.first)
        #expect(scenario["errorCause"] as? String == "scenario")
        #expect((scenario["error"] as? String)?.contains(message) == true)
    }

    @Test(.enabled(if: isRoot, "needs root"))
    func aFailedExpectationExits1() throws {
        let result = try CLI.run(["run", "expectation-fails"], binary: CLI.fixtures)
        #expect(result.status == 1, "\(result)")
        #expect(result.stdout.contains("expected connect succeeds, observed connect failed with ECONNREFUSED"), "\(result)")
    }
}

/// A forced backend that cannot serve a fault: exit 4, with the fault's file and line, before anything is built.
@Suite(.enabled(if: isRoot, "needs root")) struct UnservableFaultTests {
    @Test func countBasedReorderingIsRefusedByTheKernelBackend() throws {
        let result = try CLI.run(["run", "fault-reorder-count", "--fault-backend", "bpf"], binary: CLI.fixtures)
        // Exit 3 instead where this kernel cannot attach tc BPF at all.
        #expect(result.status == 4 || (result.status == 3 && result.stderr.contains("tc BPF")), "\(result)")
        if result.status == 4 {
            #expect(result.stderr.contains("Tests/Fixtures/main.swift:"), "\(result)")
            #expect(result.stderr.contains("--fault-backend bpf cannot serve fault"), "\(result)")
            #expect(result.stderr.contains("count-based reordering"), "\(result)")
        }
    }

    @Test func helpNamesTheChoices() throws {
        let result = try CLI.run(["run", "--help"])
        #expect(result.stdout.contains("--fault-backend <auto|bpf|nfqueue>"), "\(result)")
    }
}

/// A run holding every kind of resource (pins, peers, a program with a child of its own,
/// fault rules and a queue, captures) is interrupted; afterwards nothing of it is left.
@Suite(.enabled(if: isRoot, "needs root"), .serialized)
struct InterruptedRunTests {
    @Test(arguments: [(SIGINT, 130), (SIGTERM, 143), (SIGSEGV, 139), (SIGKILL, 137)] as [(Int32, Int32)])
    func nothingIsLeft(signal: Int32, status: Int32) throws {
        let run = try BackgroundRun(["run", "hold-everything", "--pin"])
        try run.waitUntilHolding()
        #expect(!Leftovers.of(run.pid).isEmpty, "the run holds pins and processes before the signal")
        kill(run.pid, signal)
        #expect(run.wait() == status, "\(run.output)")
        if signal == SIGKILL {
            // Pins and a program's own children outlive a SIGKILL; `cleanup` removes them.
            let cleanup = try CLI.run(["cleanup"])
            #expect(cleanup.status == 0, "\(cleanup)")
            #expect(cleanup.stdout.contains("removed pin /run/netns/nf-\(run.pid)-hold-everything-client"), "\(cleanup)")
        }
        #expect(Leftovers.settled(run.pid) == [])
    }

    /// Two orchestrators (two CI jobs) on the same scenarios at once, pinned: no collision.
    @Test func twoOrchestratorsAtOnce() throws {
        let arguments = ["run", "H4", "C1", "K6", "--pin", "--parallel", "3"]
        let first = try BackgroundRun(arguments, binary: CLI.executable)
        let second = try BackgroundRun(arguments, binary: CLI.executable)
        #expect(first.wait() == 0, "\(first.output)")
        #expect(second.wait() == 0, "\(second.output)")
        #expect(Leftovers.settled(first.pid) == [])
        #expect(Leftovers.settled(second.pid) == [])
    }
}

/// `netfault-fixtures ARGS…` started in the background, output to a file.
final class BackgroundRun {
    let process = Process()
    let outputURL = CLI.temporaryFile("background.out")
    var pid: Int32 { process.processIdentifier }

    init(_ arguments: [String], binary: URL? = CLI.fixtures) throws {
        process.executableURL = try #require(binary)
        process.arguments = arguments
        FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        let output = try FileHandle(forWritingTo: outputURL)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = output
        try process.run()
    }

    deinit { try? FileManager.default.removeItem(at: outputURL) }

    var output: String { (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "" }

    /// Until the three namespaces are pinned and the program (the last step) runs.
    func waitUntilHolding() throws {
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            let pins = (try? FileManager.default.contentsOfDirectory(atPath: "/run/netns"))?.filter { $0.hasPrefix("nf-\(pid)-") } ?? []
            let marker = (try? String(contentsOfFile: "/run/netfault/\(pid).run", encoding: .utf8)) ?? ""
            if pins.count == 3 && marker.contains("group ") { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        Issue.record("the run did not get going: \(output)")
    }

    func wait() -> Int32 {
        process.waitUntilExit()
        return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }
}

/// What a run (orchestrator `pid`) could leave behind: its pins, its marker, and processes
/// in test namespaces — its forked peers (same command line) or the fixture program's `sleep 60`.
enum Leftovers {
    static func of(_ pid: Int32) -> [String] {
        let pins = ((try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? [])
            .filter { $0.hasPrefix("nf-\(pid)-") }.map { "pin \($0)" }
        let marker = FileManager.default.fileExists(atPath: "/run/netfault/\(pid).run") ? ["marker \(pid).run"] : []
        let ownNamespace = namespace(of: "self")
        let processes = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { entry in
            guard entry.allSatisfy(\.isNumber), let other = namespace(of: entry), other != ownNamespace,
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let state = stat.split(separator: ")").last?.split(separator: " ").first, state != "Z" else { return false }
            let commandLine = (FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")).map { String(decoding: $0, as: UTF8.self) } ?? ""
            return commandLine.contains("netfault") || commandLine.contains("sleep\u{0}60")
        }.map { "process \($0)" }
        return pins + marker + processes
    }

    /// A killed process's namespaces and children go a moment after it: look again for up to 2 s.
    static func settled(_ pid: Int32) -> [String] {
        for _ in 0..<20 {
            if of(pid).isEmpty { return [] }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return of(pid)
    }

    private static func namespace(of process: String) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(process)/ns/net")
    }
}
