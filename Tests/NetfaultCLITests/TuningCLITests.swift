import Foundation
import Testing

/// `run --sysctl`, `--host-sysctls` and `sweep`, run as a user would.
@Suite struct TuningHelpAndUsageTests {
    @Test func helpMentionsTheOptions() throws {
        let top = try CLI.run(["--help"])
        #expect(top.stdout.split(separator: "\n").contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix("sweep ") }, "\(top)")
        let run = try CLI.run(["run", "--help"])
        #expect(run.stdout.contains("--sysctl <HOST:NAME=VALUE>") && run.stdout.contains("--host-sysctls"), "\(run)")
        let sweep = try CLI.run(["sweep", "--help"])
        #expect(sweep.status == 0, "\(sweep)")
        let folded = sweep.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for text in ["--sysctl <HOST:NAME=VALUE>", "--host-sysctls", "--parallel", "(default 4; 1 where the CPU is emulated)", "--json", "--html",
                     "ranges LOW..HIGH", "exit 2 before anything runs"] {
            #expect(folded.contains(text), "sweep --help lacks \(text)")
        }
    }

    /// Usage errors exit 2 before anything is looked at (no root needed).
    @Test("malformed or incomplete tuning is a usage error", arguments: [
        (["run", "K6", "--sysctl", "client-net.ipv4.tcp_syn_retries=2"], "--sysctl client-net.ipv4.tcp_syn_retries=2: expected HOST:NAME=VALUE"),
        (["sweep", "K6", "--sysctl", "client:net.ipv4.tcp_syn_retries=8..1"], "\"8..1\" is not a range"),
        (["sweep", "K6", "--sysctl", "client:net.ipv4.tcp_syn_retries=2"], "name the values to sweep"),
        (["sweep", "K6", "--sysctl", "client:net.ipv4.tcp_syn_retries=1,2", "--sysctl", "client:net.ipv4.tcp_fin_timeout=1,2"],
         "sweep one sysctl at a time"),
        (["sweep", "NOPE", "--sysctl", "client:net.ipv4.tcp_syn_retries=1,2"], "unknown scenario NOPE"),
        (["sweep", "K6", "--sysctl", "client:net.ipv4.tcp_syn_retries=1,2", "--parallel", "0"], "--parallel must be at least 1"),
    ])
    func usageError(arguments: [String], message: String) throws {
        let result = try CLI.run(arguments)
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains(message), "\(result)")
        #expect(result.stdout.isEmpty)
    }
}

@Suite(.serialized, .enabled(if: isRoot, "needs root"))
struct TuningCommandTests {
    @Test("a value the kernel rejects, an unknown host or name: exit 2 naming the option, nothing run")
    func rejectedByTheKernel() throws {
        let run = try CLI.run(["run", "K6", "--sysctl", "client:net.ipv4.tcp_syn_retries=300"])
        #expect(run.status == 2, "\(run)")
        #expect(run.stderr.contains("--sysctl client:net.ipv4.tcp_syn_retries=300: the kernel rejects net.ipv4.tcp_syn_retries = 300: EINVAL"), "\(run)")
        #expect(run.stdout.isEmpty)
        let sweep = try CLI.run(["sweep", "K6", "--sysctl", "client:net.ipv4.tcp_syn_retries=1,300,2"])
        #expect(sweep.status == 2, "\(sweep)")
        #expect(sweep.stderr.contains("--sysctl client:net.ipv4.tcp_syn_retries=300: the kernel rejects"), "\(sweep)")
        #expect(!sweep.stderr.contains("=1:") && sweep.stdout.isEmpty, "\(sweep)")
        let host = try CLI.run(["run", "K6", "--sysctl", "nohost:net.ipv4.tcp_syn_retries=2"])
        #expect(host.status == 2 && host.stderr.contains("--sysctl nohost:net.ipv4.tcp_syn_retries=2: sysctl names unknown host \"nohost\""), "\(host)")
        let name = try CLI.run(["run", "K6", "--sysctl", "*:net.ipv4.no_such_sysctl=1"])
        #expect(name.status == 2 && name.stderr.contains("--sysctl *:net.ipv4.no_such_sysctl=1: sysctl net.ipv4.no_such_sysctl does not exist"), "\(name)")
    }

    @Test("run --sysctl: the JSON lists what was applied, per host, with its source")
    func appliedInTheJSON() throws {
        let json = CLI.temporaryFile("tuned.json")
        defer { try? FileManager.default.removeItem(at: json) }
        let result = try CLI.run(["run", "K6", "--sysctl", "*:net.ipv4.tcp_fin_timeout=9", "--sysctl", "client:net.ipv4.tcp_fin_timeout=7",
                                  "--host-sysctls", "--json", json.path])
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.contains("netfault: --host-sysctls: "), "\(result)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        let scenario = try #require((object["scenarios"] as? [[String: Any]])?.first)
        let applied = try #require(scenario["sysctls"] as? [[String: String]])
        // This machine's own tuning (none differ here, see the stderr line) would come first, as "host".
        let ours = applied.filter { $0["source"] != "host" }
        #expect(ours == [["host": "server", "name": "net.ipv4.tcp_fin_timeout", "value": "9", "source": "override"],
                         ["host": "client", "name": "net.ipv4.tcp_fin_timeout", "value": "7", "source": "override"]])
    }

    @Test("a small real sweep: its table, JSON and page", .timeLimit(.minutes(1)))
    func smallSweep() throws {
        let json = CLI.temporaryFile("sweep.json"), html = CLI.temporaryFile("sweep.html")
        defer {
            try? FileManager.default.removeItem(at: json)
            try? FileManager.default.removeItem(at: html)
        }
        let result = try CLI.run(["sweep", "K6", "--sysctl", "client:net.ipv4.tcp_syn_retries=1,2",
                                  "--sysctl", "*:net.ipv4.tcp_fin_timeout=9", "--json", json.path, "--html", html.path])
        #expect(result.status == 0, "\(result)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("K6 A SYN to a closed port is answered with RST: across client:net.ipv4.tcp_syn_retries with *:net.ipv4.tcp_fin_timeout=9 on ") == true, "\(result)")
        #expect(lines.contains { $0.hasPrefix("VALUE  STATUS  TIME") })
        #expect(lines.contains { $0.hasPrefix("1      passed") } && lines.contains { $0.hasPrefix("2      passed") }, "\(result)")
        #expect(lines.last == "2 passed, 0 failed, 0 skipped")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        let points = try #require(object["points"] as? [[String: Any]])
        #expect(points.map { $0["value"] as? String } == ["1", "2"])
        let applied = (points[1]["result"] as? [String: Any])?["sysctls"] as? [[String: String]]
        #expect(applied?.last == ["host": "client", "name": "net.ipv4.tcp_syn_retries", "value": "2", "source": "override"])
        let page = try String(contentsOf: html, encoding: .utf8)
        #expect(page.contains("<svg class=\"plot\"") && !page.contains("<script"))
    }
}

/// Ctrl-C during a sweep: exit 130, and nothing of it is left (every process of its peers'
/// process groups; other orchestrators' processes are not looked at).
@Suite(.enabled(if: isRoot, "needs root"), .serialized)
struct InterruptedSweepTests {
    @Test(.timeLimit(.minutes(1)))
    func ctrlCLeavesNothing() throws {
        let sweep = try BackgroundRun(["sweep", "H2", "--sysctl", "client:net.ipv4.tcp_syn_retries=4,5"], binary: CLI.executable)
        var groups: Set<String> = []
        let deadline = Date().addingTimeInterval(20)
        while groups.count < 4 && Date() < deadline {  // both values' server and client peers
            groups = Set(Self.processes().filter { $0.parent == "\(sweep.pid)" }.map(\.group))
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(groups.count == 4, "the sweep did not get going: \(sweep.output)")
        kill(sweep.pid, SIGINT)
        #expect(sweep.wait() == 130, "\(sweep.output)")
        #expect(sweep.output.contains("interrupted; everything this run made is removed"))
        var left = Self.processes().filter { groups.contains($0.group) }
        for _ in 0..<20 where !left.isEmpty {  // killed children go a moment after
            Thread.sleep(forTimeInterval: 0.1)
            left = Self.processes().filter { groups.contains($0.group) }
        }
        #expect(left.isEmpty, "\(left)")
    }

    /// Live (not zombie) processes: pid, parent and process group, from /proc/PID/stat.
    static func processes() -> [(pid: String, parent: String, group: String)] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry in
            guard entry.allSatisfy(\.isNumber), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8) else { return nil }
            let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
            guard fields.count > 2, fields[0] != "Z" else { return nil }
            return (entry, String(fields[1]), String(fields[2]))
        }
    }
}
