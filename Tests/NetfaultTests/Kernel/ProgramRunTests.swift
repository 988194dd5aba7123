import Foundation
import Testing
@testable import Netfault
import NetfaultKernel

/// Users' programs for real, in namespaces of the test's own: Command options, bounded
/// output with complete artifacts, and readiness on output.
@Suite("Programs on this kernel", .serialized, .enabled(if: RootOnly.isRoot, RootOnly.reason))
struct ProgramRunTests {
    private static func scratch() throws -> String {
        let directory = NSTemporaryDirectory() + "netfault-programs-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test("environment added or replaced, working directory, standard input from bytes and from a file")
    func commandOptions() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "from a file\n".write(toFile: "\(directory)/input", atomically: true, encoding: .utf8)
        let scenario = Scenario("PRG1", "command options", timeLimit: 20) {
            Host("h")
            Command("added", on: "h", ["/bin/sh", "-c", #"echo "$NF_ADDED ${PATH:+path-kept}""#],
                    environment: .adding(["NF_ADDED": "yes"]))
            Command("replaced", on: "h", ["/usr/bin/env"], environment: .replacing(["NF_ONLY": "1"]))
            Command("directory", on: "h", ["/bin/pwd"], workingDirectory: directory)
            Command("bytes", on: "h", ["/bin/cat"], input: .text("hello\nworld\n"))
            Command("file", on: "h", ["/bin/cat"], input: .file("\(directory)/input"))
            Command("nothing", on: "h", ["/bin/cat"])
            for name in ["added", "replaced", "directory", "bytes", "file", "nothing"] {
                WaitFor(exitOf: name, timeout: 5)
            }
            Expect.output(of: "bytes", contains: "world")
            Expect.process("nothing", exits: 0)
        }
        try ScenarioRunner.check(scenario)
        let result = ScenarioRunner.run(scenario)
        #expect(result.status == .passed, "\(result.failureSummary)")
        func stdout(_ name: String) -> String { result.process(name)?.stdout.text ?? "(not run)" }
        #expect(stdout("added") == "yes path-kept\n")
        #expect(stdout("replaced") == "NF_ONLY=1\n")
        #expect(stdout("directory") == directory + "\n")
        #expect(stdout("bytes") == "hello\nworld\n")
        #expect(stdout("file") == "from a file\n")
        #expect(stdout("nothing") == "")
    }

    @Test("output past 128 KiB: head and tail kept, sizes and cut recorded, artifacts complete, lines in the cut still matched")
    func boundedOutputAndArtifacts() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let scenario = Scenario("PRG2", "bounded output", timeLimit: 30) {
            Host("h")
            Command("counter", on: "h", ["/bin/sh", "-c", "seq 1 200000; seq 1 3 >&2"])
            WaitFor(exitOf: "counter", timeout: 20)
            Expect.output(of: "counter", matches: "^150000$")
            Expect.output(of: "counter", contains: "2", in: .stderr)
            Expect.output(of: "counter", contains: "200001")
        }
        try ScenarioRunner.check(scenario)
        let result = ScenarioRunner.run(scenario, options: RunOptions(artifactsDirectory: directory))
        let expected = (1...200000).map(String.init).joined(separator: "\n") + "\n"
        let process = try #require(result.process("counter"))
        #expect(process.stdout.bytes == expected.utf8.count)
        #expect(process.stdout.cut)
        #expect(process.stdout.head.utf8.count == 65536 && process.stdout.tail.utf8.count == 65536)
        #expect(process.stdout.head == String(expected.prefix(65536)))
        #expect(process.stdout.tail == String(expected.suffix(65536)))
        #expect(process.stderr == ProcessOutput(bytes: 6, cut: false, head: "1\n2\n3\n", tail: ""))
        #expect(result.expectations.map(\.passed) == [true, true, false], "\(result.expectations)")
        #expect(result.expectations[0].observed.hasSuffix(": \"150000\""))
        #expect(result.expectations[2].observed == "no line matched (\(expected.utf8.count) bytes, cut in the record); last line \"200000\"")
        let artifact = try String(contentsOfFile: "\(directory)/PRG2/counter.stdout", encoding: .utf8)
        #expect(artifact == expected, "the artifact holds the whole output")
        #expect(try String(contentsOfFile: "\(directory)/PRG2/counter.stderr", encoding: .utf8) == "1\n2\n3\n")
    }

    @Test("with no pattern left to find, the middle of the output is spliced to the artifact: head, tail and sizes still exact")
    func splicedOutput() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let scenario = Scenario("PRG6", "spliced output", timeLimit: 60) {
            Host("h")
            // Slow at first (the first line is found, then lines are no longer wanted), then fast.
            Command("counter", on: "h", ["/bin/sh", "-c", "echo first; sleep 0.1; seq 1 1000000"])
            Command("quiet", on: "h", ["/bin/sh", "-c", "seq 1 1000000"])
            WaitFor(exitOf: "counter", timeout: 30)
            WaitFor(exitOf: "quiet", timeout: 30)
            Expect.output(of: "counter", contains: "first")
        }
        try ScenarioRunner.check(scenario)
        for artifacts in [directory, nil] {
            let result = ScenarioRunner.run(scenario, options: RunOptions(artifactsDirectory: artifacts))
            #expect(result.status == .passed, "\(result.failureSummary)")
            let numbers = (1...1_000_000).map(String.init).joined(separator: "\n") + "\n"
            for (name, expected) in [("counter", "first\n" + numbers), ("quiet", numbers)] {
                let stdout = try #require(result.process(name)?.stdout)
                #expect(stdout.bytes == expected.utf8.count && stdout.cut, "\(name)")
                #expect(stdout.head == String(expected.prefix(65536)), "\(name)")
                #expect(stdout.tail == String(expected.suffix(65536)), "\(name)")
                if let artifacts {
                    let stored = try String(contentsOfFile: "\(artifacts)/PRG6/\(name).stdout", encoding: .utf8)
                    #expect(stored == expected, "\(name): the artifact is complete")
                }
            }
        }
    }

    @Test("WaitFor(output:) waits for the line, then the next step starts")
    func readinessOnOutput() throws {
        let scenario = Scenario("PRG3", "readiness", timeLimit: 20) {
            Host("h")
            Command("server", on: "h", ["/bin/sh", "-c", "echo starting; sleep 0.3; echo 'listening on 7000' >&2; sleep 10"])
            WaitFor(output: #"listening on \d+"#, of: "server", timeout: 5)
            Command("client", on: "h", ["/bin/true"])
            WaitFor(exitOf: "client", timeout: 5)
            Expect.process("client", exits: 0)
        }
        try ScenarioRunner.check(scenario)
        let result = ScenarioRunner.run(scenario)
        #expect(result.status == .passed, "\(result.failureSummary)")
        let server = try #require(result.process("server")), client = try #require(result.process("client"))
        // The line comes 0.3 s after the server starts (sleep wakes late, never early); the client
        // follows it at once, far sooner than the server's 10 s sleep.
        #expect(client.startTime - server.startTime >= 0.3)
        #expect(client.startTime - server.startTime < 5)
        #expect(server.stoppedAtEnd && server.exitStatus == 143)
    }

    @Test("WaitFor(output:) that runs out, or whose process exits, fails with its line and what was seen")
    func readinessFailures() throws {
        let line = #line + 4
        let timedOut = Scenario("PRG4", "no ready line", timeLimit: 20) {
            Host("h")
            Command("server", on: "h", ["/bin/sh", "-c", "echo hello; sleep 10"])
            WaitFor(output: "ready", of: "server", timeout: 0.3)
        }
        let result = ScenarioRunner.run(timedOut)
        #expect(result.status == .failed)
        #expect(result.error == "Tests/NetfaultTests/Kernel/ProgramRunTests.swift:\(line): server's output had no line that matches /ready/: within 0.3 s; it is still running; last stdout line \"hello\"")

        let exited = Scenario("PRG5", "exits first", timeLimit: 20) {
            Host("h")
            Command("server", on: "h", ["/bin/sh", "-c", "echo 'bad config' >&2; exit 3"])
            WaitFor(output: "ready", of: "server", in: .stdout, timeout: 5)
        }
        let started = MonotonicClock.now()
        let failed = ScenarioRunner.run(exited)
        #expect(Double(MonotonicClock.now() - started) / 1e9 < 4, "an exited process fails the wait at once")
        let error = try #require(failed.error)
        #expect(error.contains("ProgramRunTests.swift:\(line + 9): server's stdout had no line that matches /ready/: it exited with exit status 3 at "))
        #expect(error.hasSuffix(" s; last stderr line \"bad config\""))
        #expect(failed.errorCause == .scenario)
    }
}
