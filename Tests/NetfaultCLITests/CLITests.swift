import Foundation
import NetfaultTestSupport
import Testing

/// The built `netfault` binary, run as a user would. The help text and exit codes
/// are part of the interface.
enum CLI {
    struct Result: CustomStringConvertible {
        let status: Int32
        let stdout: String
        let stderr: String
        var description: String { "exit \(status)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }
    }

    static let executable = binary(named: "netfault")
    /// The same command line over scenarios made for these tests (Tests/Fixtures).
    static let fixtures = binary(named: "netfault-fixtures")

    /// Next to the test bundle (both live in the build's debug folder), else the
    /// package's own .build-ltests or .build.
    static func binary(named name: String) -> URL? {
        var candidates: [URL] = []
        for path in [Bundle.main.executablePath, CommandLine.arguments.first].compactMap({ $0 }) {
            let url = URL(fileURLWithPath: path).resolvingSymlinksInPath()
            var directory = url.deletingLastPathComponent()
            // A bundle directory (netfaultPackageTests.xctest/…) sits inside the build folder.
            for _ in 0..<4 {
                candidates.append(directory.appendingPathComponent(name))
                directory = directory.deletingLastPathComponent()
            }
        }
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for scratch in [".build-ltests", ".build"] {
            candidates.append(package.appendingPathComponent("\(scratch)/debug/\(name)"))
        }
        return candidates.first { url in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && !isDirectory.boolValue
                && FileManager.default.isExecutableFile(atPath: url.path)
        }
    }

    /// Runs `netfault ARGS…` (or another `binary`, optionally through a wrapper such as
    /// setpriv), output to files so no pipe can fill up.
    static func run(_ arguments: [String], binary: URL? = executable, wrapper: [String] = []) throws -> Result {
        let binary = try #require(binary, "binary not found next to the tests")
        let (executable, words) = wrapper.first.map { (URL(fileURLWithPath: $0), Array(wrapper.dropFirst()) + [binary.path] + arguments) }
            ?? (binary, arguments)
        let outcome = try FileOutputProcess.run(executable, words)
        return Result(status: outcome.status, stdout: outcome.stdout, stderr: outcome.stderr)
    }

    static func temporaryFile(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("netfault-cli-\(UUID().uuidString)-\(name)")
    }
}

let isRoot = getuid() == 0

@Suite struct HelpTests {
    @Test func binaryIsFound() throws {
        let binary = try #require(CLI.executable)
        #expect(binary.lastPathComponent == "netfault")
    }

    @Test func topLevelHelpListsEverySubcommandAndTheExitCodes() throws {
        let result = try CLI.run(["--help"])
        #expect(result.status == 0, "\(result)")
        let lines = result.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        for subcommand in ["list", "show", "run", "claims", "report", "up", "doctor", "bench", "cleanup", "peer", "init"] {
            #expect(lines.contains { $0.hasPrefix(subcommand + " ") }, "no \(subcommand) line in\n\(result.stdout)")
        }
        // The help is wrapped to the terminal width: compare with whitespace folded.
        let folded = result.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(folded.contains("Exit codes: 0 all passed (skips allowed), 1 an expectation failed, "
                                + "2 bad usage or an invalid scenario, 3 this machine cannot run it, "
                                + "4 the forced fault backend cannot serve a fault, "
                                + "5 a saved result's schemaVersion is one this netfault cannot read."), "\(result)")
    }

    @Test func runHelpMentionsItsOptions() throws {
        let result = try CLI.run(["run", "--help"])
        #expect(result.status == 0, "\(result)")
        for option in ["--json", "--junit", "--parallel", "--pin", "--all", "--verbose", "--shard", "--pcap", "--html", "--ladder", "--artifacts"] {
            #expect(result.stdout.contains(option), "run --help lacks \(option)")
        }
        #expect(result.stdout.contains("(default 4; 1 where"), "--parallel says its default and when it is 1")
    }

    /// The benchmarks share their checks but keep their own defaults and help.
    @Test(arguments: [
        ("topology", ["--pairs", "--rounds", "--json", "(default: 50)", "(default: 5)"], nil),
        ("faults", ["--bytes", "--rounds", "--json", "(default: 200000000)", "(default: 15)"], 1_000_000),
        ("timeline", ["--bytes", "--rounds", "--json", "(default: 200000000)", "(default: 5)"], 1_000_000),
        ("output", ["--bytes", "--rounds", "--json", "(default: 2000000000)", "(default: 3)"], 1),
        ("observation", ["--bytes", "--rounds", "--scenarios", "--json", "(default: 200000000)", "(default: 5)"], 1_000_000),
    ] as [(String, [String], Int?)])
    func benchHelpAndBadUsage(bench: String, help expected: [String], minimumBytes: Int?) throws {
        let help = try CLI.run(["bench", bench, "--help"])
        #expect(help.status == 0, "\(help)")
        // The help is wrapped to the terminal width: compare with whitespace folded.
        let folded = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for text in expected {
            #expect(folded.contains(text), "bench \(bench) --help lacks \(text)")
        }
        let noRounds = try CLI.run(["bench", bench, "--rounds", "0"])
        #expect(noRounds.status == 2 && noRounds.stderr.contains("--rounds must be at least 1"), "\(noRounds)")
        if let minimumBytes {
            let tooFew = try CLI.run(["bench", bench, "--bytes", "\(minimumBytes - 1)"])
            #expect(tooFew.status == 2 && tooFew.stderr.contains("--bytes must be at least \(minimumBytes)"), "\(tooFew)")
        }
    }

    @Test func aShardOutsideItsCountIsAUsageError() throws {
        for bad in ["0/3", "4/3", "1/0", "a/b", "2"] {
            let result = try CLI.run(["run", "--all", "--shard", bad])
            #expect(result.status == 2, "\(bad): \(result)")
            #expect(result.stderr.contains("--shard"), "\(bad): \(result)")
        }
    }

    @Test func claimsFromAnUnreadableRunIsAUsageError() throws {
        let result = try CLI.run(["claims", "--from", "/nonexistent/run.json"])
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("cannot read the run /nonexistent/run.json"), "\(result)")
    }

    @Test func helpSubcommandMatchesDashDashHelp() throws {
        let viaHelp = try CLI.run(["help", "run"])
        let viaFlag = try CLI.run(["run", "--help"])
        #expect(viaHelp.status == 0)
        #expect(viaHelp.stdout == viaFlag.stdout)
    }

    /// `netfault help peer`: `peer --help` would be taken as a script word.
    @Test func peerHelpListsTheWords() throws {
        let result = try CLI.run(["help", "peer"])
        #expect(result.status == 0, "\(result)")
        for word in ["listen ADDR PORT", "connect ADDR PORT", "read-eof", "shutdown-wr", "close-listener", "repeat N", "sendto ADDR PORT", "recvfrom"] {
            #expect(result.stdout.contains(word), "peer --help lacks \(word)")
        }
    }
}

@Suite struct CatalogCommandTests {
    @Test func listPrintsOneLinePerScenario() throws {
        let result = try CLI.run(["list"])
        #expect(result.status == 0, "\(result)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("H1 ") && $0.contains("Three-way handshake") }, "\(result)")
        #expect(lines.contains { $0.hasPrefix("C7 ") && $0.contains("TIME_WAIT") }, "\(result)")
        #expect(lines.first?.hasPrefix("H1 ") == true)
    }

    @Test func listJSONHasItsVersionsAndTheEntries() throws {
        let result = try CLI.run(["list", "--json"])
        #expect(result.status == 0, "\(result)")
        let listing = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(listing["schemaVersion"] as? Int == 1 && listing["netfaultVersion"] is String)
        let entries = try #require(listing["scenarios"] as? [[String: Any]])
        let outcome = try SchemaValidator.validate(Data(result.stdout.utf8), against: "list")
        #expect(outcome.status == 0, "\(outcome)")
        #expect(entries.count >= 11)
        for entry in entries {
            #expect(entry["id"] is String)
            #expect(entry["name"] is String)
            #expect(entry["summary"] is String)
            #expect(entry.keys.contains("claim"))
        }
        let ids = entries.compactMap { $0["id"] as? String }
        #expect(ids.contains("H1") && ids.contains("C7") && ids.contains("K6"))
        #expect(Set(ids).count == ids.count)
        let h1 = try #require(entries.first { $0["id"] as? String == "H1" })
        #expect(h1["name"] as? String == "Three-way handshake")
        #expect((h1["claim"] as? String)?.isEmpty == false)
        #expect((h1["summary"] as? String)?.isEmpty == false)
        // The text list and the JSON list are the same catalog, in the same order.
        let text = try CLI.run(["list"]).stdout.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
        #expect(text == ids)
    }

    @Test func showPrintsTheHosts() throws {
        let result = try CLI.run(["show", "H1"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.hasPrefix("H1  Three-way handshake"))
        #expect(result.stdout.contains("Hosts: client, server"), "\(result)")
        #expect(result.stdout.contains("10.77.1.0/24"))
        #expect(result.stdout.contains("Scenarios/H1_Handshake.swift:"))
        #expect(result.stdout.contains("Expectations:"))
    }

    @Test func showPrintsEachExpectationWithItsLocationAndWhatItChecks() throws {
        let result = try CLI.run(["show", "K6"])
        #expect(result.status == 0, "\(result)")
        let expectations = result.stdout.components(separatedBy: "Expectations:\n").last ?? ""
        #expect(expectations.contains("  Scenarios/K6_ConnectionRefused.swift:20: client: connect fails with ECONNREFUSED\n"), "\(result)")
        #expect(expectations.contains("  Scenarios/K6_ConnectionRefused.swift:22: server: counter TcpOutRsts changes by 1\n"), "\(result)")
        // Every expectation line says what it checks after its file:line.
        let lines = expectations.split(separator: "\n")
        #expect(!lines.isEmpty)
        #expect(lines.allSatisfy { $0.range(of: #"^  Scenarios/K6_ConnectionRefused\.swift:\d+: \S"#, options: .regularExpression) != nil }, "\(lines)")
    }

    @Test func showIsCaseInsensitive() throws {
        let result = try CLI.run(["show", "h1"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.hasPrefix("H1  "))
    }
}

/// Usage errors exit 2, as `netfault --help` promises.
@Suite struct UsageErrorTests {
    @Test func showUnknownID() throws {
        let result = try CLI.run(["show", "NOPE"])
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("NOPE"), "\(result)")
    }

    @Test func runUnknownID() throws {
        let result = try CLI.run(["run", "NOPE"])
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("NOPE"), "\(result)")
        #expect(result.stdout.isEmpty, "nothing runs: \(result)")
    }

    @Test func runWithoutIDs() throws {
        let result = try CLI.run(["run"])
        #expect(result.status == 2, "\(result)")
        #expect(!result.stderr.isEmpty)
    }

    @Test func runParallelZero() throws {
        let result = try CLI.run(["run", "--parallel", "0", "H1"])
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("--parallel"), "\(result)")
    }

    @Test func runIDsAndAll() throws {
        let result = try CLI.run(["run", "--all", "H1"])
        #expect(result.status == 2, "\(result)")
    }

    @Test func unknownOption() throws {
        let result = try CLI.run(["run", "--frobnicate", "H1"])
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("--frobnicate"))
    }

    @Test func peerWithAMisspelledWord() throws {
        let result = try CLI.run(["peer", "conect"])
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("\"conect\""), "\(result)")
        #expect(result.stdout.isEmpty)
    }

    @Test func peerWithAMissingArgument() throws {
        let result = try CLI.run(["peer", "listen", "0.0.0.0"])
        #expect(result.status == 2, "\(result)")
        #expect(result.stderr.contains("listen"), "\(result)")
    }
}

@Suite struct PrivilegedCommandTests {
    @Test(.enabled(if: isRoot, "needs root"))
    func doctorJSONListsProbes() throws {
        let result = try CLI.run(["doctor", "--json"])
        #expect(result.status == 0, "\(result)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(report["schemaVersion"] as? Int == 1 && report["netfaultVersion"] is String)
        let probes = try #require(report["probes"] as? [[String: Any]])
        let outcome = try SchemaValidator.validate(Data(result.stdout.utf8), against: "doctor")
        #expect(outcome.status == 0, "\(outcome)")
        #expect(!probes.isEmpty)
        for probe in probes {
            #expect(probe["name"] is String)
            #expect(probe["present"] is Bool)
            #expect(probe["detail"] is String)
        }
        let privileges = try #require(probes.first { $0["name"] as? String == "privileges" })
        #expect(privileges["present"] as? Bool == true)
    }

    @Test(.enabled(if: !isRoot, "runs as a user without privileges"))
    func runAsNonRootExits3() throws {
        let result = try CLI.run(["run", "H1"])
        #expect(result.status == 3, "\(result)")
        #expect(result.stderr.contains("root"), "\(result)")
    }

    /// The same as root, with privileges dropped by setpriv (uid/gid nobody, no capabilities).
    @Test(.enabled(if: isRoot && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), "needs root and setpriv"))
    func runWithPrivilegesDroppedExits3() throws {
        let result = try CLI.run(["run", "H1"],
                                 wrapper: ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"])
        #expect(result.status == 3, "\(result)")
        #expect(result.stderr.contains("needs root"), "\(result)")
        #expect(result.stdout.isEmpty)
    }

    @Test(.enabled(if: isRoot, "needs root"), .timeLimit(.minutes(1)))
    func runWritesBoundedOutputToJSONAndCompleteOutputToArtifacts() throws {
        let json = CLI.temporaryFile("output.json"), artifacts = CLI.temporaryFile("artifacts")
        defer {
            try? FileManager.default.removeItem(at: json)
            try? FileManager.default.removeItem(at: artifacts)
        }
        let result = try CLI.run(["run", "program-output", "--json", json.path, "--artifacts", artifacts.path], binary: CLI.fixtures)
        #expect(result.status == 0, "\(result)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        let scenario = try #require((object["scenarios"] as? [[String: Any]])?.first)
        let process = try #require((scenario["processes"] as? [[String: Any]])?.first)
        let whole = "ready\n" + (1...100000).map(String.init).joined(separator: "\n") + "\n"
        let stdout = try #require(process["stdout"] as? [String: Any])
        #expect(stdout["bytes"] as? Int == whole.utf8.count && stdout["cut"] as? Bool == true)
        #expect((stdout["head"] as? String)?.hasPrefix("ready\n1\n2\n") == true)
        #expect((stdout["tail"] as? String)?.hasSuffix("99999\n100000\n") == true)
        #expect(process["stderr"] as? [String: Any] as NSDictionary? == ["bytes": 5, "cut": false, "head": "done\n", "tail": ""] as NSDictionary)
        let stored = artifacts.appendingPathComponent("program-output")
        #expect(try String(contentsOf: stored.appendingPathComponent("writer.stdout"), encoding: .utf8) == whole)
        #expect(try String(contentsOf: stored.appendingPathComponent("writer.stderr"), encoding: .utf8) == "done\n")
        // The saved run still reads.
        let report = try CLI.run(["report", json.path])
        #expect(report.status == 0, "\(report)")
    }

    @Test(.enabled(if: isRoot, "needs root"), .timeLimit(.minutes(1)))
    func runK6WritesJSONAndJUnit() throws {
        let json = CLI.temporaryFile("k6.json"), junit = CLI.temporaryFile("k6.xml")
        defer {
            try? FileManager.default.removeItem(at: json)
            try? FileManager.default.removeItem(at: junit)
        }
        let result = try CLI.run(["run", "K6", "--json", json.path, "--junit", junit.path])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("K6"))

        let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        #expect(Set(object.keys) == ["schemaVersion", "netfaultVersion", "kernel", "startedAt", "scenarios"])
        #expect((object["kernel"] as? String)?.isEmpty == false)
        let scenarios = try #require(object["scenarios"] as? [[String: Any]])
        #expect(scenarios.count == 1)
        #expect(scenarios.first?["id"] as? String == "K6")
        #expect(scenarios.first?["status"] as? String == "passed")

        let xml = try String(contentsOf: junit, encoding: .utf8)
        #expect(xml.hasPrefix("<?xml"))
        #expect(xml.components(separatedBy: "<testcase ").count - 1 == 1, "\(xml)")
        #expect(xml.contains("K6"))
        #expect(xml.contains("failures=\"0\""))
    }
}
