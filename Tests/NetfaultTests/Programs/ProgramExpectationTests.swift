import Foundation
import NetfaultKernel
import Testing
@testable import Netfault

/// Output, run-time and user-written expectations judged against hand-made recordings,
/// the output watch fed line by line, and the JSON of bounded output.
@Suite struct ProgramExpectationTests {
    private func recording(_ processes: ObservedProcess...) -> Recording {
        var recording = Recording()
        recording.processes = processes
        return recording
    }

    private func judge(_ expectation: Netfault.Expectation, _ recording: Recording, result: ScenarioResult? = nil) -> ExpectationResult {
        ExpectationEvaluator.evaluate(expectation, against: recording, result: result)
    }

    private let served = ObservedProcess(
        name: "server", host: "h", command: "python3", exitStatus: 0, startTime: 0.1, endTime: 1.6,
        stdout: ProcessOutput(bytes: 300_000, cut: true, head: "Serving HTTP on 0.0.0.0\n", tail: "GET / 200\nbye\n"),
        outputMatches: [OutputMatch(pattern: .contains("Serving"), stream: .stdout, time: 0.25, line: "Serving HTTP on 0.0.0.0")])

    @Test func outputMatchRecordedWhileStreamingPasses() {
        let result = judge(Expect.output(of: "server", contains: "Serving"), recording(served))
        #expect(result.passed)
        #expect(result.description == "server's stdout contains \"Serving\"")
        #expect(result.observed == "at 0.25 s: \"Serving HTTP on 0.0.0.0\"")
    }

    @Test func outputWithoutMatchSaysWhatWasSeen() {
        let result = judge(Expect.output(of: "server", matches: "^5\\d\\d"), recording(served))
        #expect(!result.passed)
        #expect(result.expected == "a line that matches /^5\\d\\d/")
        #expect(result.observed == "no line matched (300000 bytes, cut in the record); last line \"bye\"")
        let stderr = judge(Expect.output(of: "server", contains: "Serving", in: .stderr), recording(served))
        #expect(!stderr.passed && stderr.observed == "no output on stderr")
        let missing = judge(Expect.output(of: "client", contains: "x"), recording(served))
        #expect(!missing.passed && missing.observed == "process client never ran")
    }

    @Test func runTimeAndStatus() {
        let passed = judge(Expect.process("server", exits: 0, tookAtLeast: 1, tookAtMost: 2), recording(served))
        #expect(passed.passed)
        #expect(passed.expected == "exits with status 0, runs at least 1.0 s, runs at most 2.0 s")
        #expect(passed.observed == "exited with status 0 after 1.5 s")
        #expect(!judge(Expect.process("server", tookAtMost: 1.4), recording(served)).passed)
        #expect(!judge(Expect.process("server", tookAtLeast: 1.6), recording(served)).passed)
        #expect(!judge(Expect.process("server", exits: 1), recording(served)).passed)
    }

    @Test func aProcessNetfaultStoppedDidNotExitOnItsOwn() {
        let stopped = ObservedProcess(name: "server", host: "h", command: "x", exitStatus: 143, startTime: 0, endTime: 3,
                                      stoppedAtEnd: true)
        let status = judge(Expect.process("server", exits: 143), recording(stopped))
        #expect(!status.passed)
        #expect(status.observed == "still running at the end, stopped by netfault after 3.0 s")
        #expect(judge(Expect.process("server", tookAtLeast: 2), recording(stopped)).passed)
        let never = ObservedProcess(name: "server", host: "h", command: "x")
        #expect(judge(Expect.process("server"), recording(never)).observed == "it never ended")
    }

    @Test func userChecksSeeTheResultAndCarryTheirLine() {
        var result = ScenarioResult(id: "P", name: "p", status: .failed)
        result.processes = [ProcessResult(host: "h", name: "curl", command: "curl", exitStatus: 0, startTime: 0, endTime: 1,
                                          events: [], stdout: ProcessOutput(whole: "1.021"))]
        let line = #line + 1
        let check = Expect.that("curl connected after the retransmission") { result in
            guard let seconds = result.process("curl").flatMap({ Double($0.stdout.text) }) else { return .fail("no time_connect") }
            return seconds >= 1 ? .pass("time_connect \(seconds) s") : .fail("time_connect \(seconds) s")
        }
        let judged = judge(check, Recording(), result: result)
        #expect(judged.passed && judged.observed == "time_connect 1.021 s")
        #expect(judged.description == "curl connected after the retransmission")
        #expect(judged.location == "Tests/NetfaultTests/Programs/ProgramExpectationTests.swift:\(line)")
        result.processes = []
        #expect(judge(check, Recording(), result: result).observed == "no time_connect")
        struct Broken: Error {}
        let throwing = Expect.that("throws") { _ in throw Broken() }
        let thrown = judge(throwing, Recording(), result: result)
        #expect(!thrown.passed && thrown.observed == "the check threw: Broken()")
    }

    @Test func watchRecordsFirstMatchesAndStopsWantingLines() {
        let watch = OutputWatch(patterns: [WatchedPattern(pattern: .matches("^ready \\d+"), stream: .stdout),
                                           WatchedPattern(pattern: .contains("warn"), stream: .stderr)],
                                parsesEvents: false, t0: 0)
        #expect(watch.lineHandler(for: .stdout) != nil && watch.lineHandler(for: .stderr) != nil)
        #expect(watch.handle("starting", on: .stdout))
        #expect(!watch.handle("ready 42", on: .stdout), "nothing left to find on stdout")
        #expect(watch.handle("ready 43", on: .stderr), "a stdout pattern does not match stderr")
        #expect(!watch.handle("a warning", on: .stderr))
        #expect(watch.outputMatches.map(\.line) == ["ready 42", "a warning"])
        let match = watch.waitForMatch(.matches("^ready \\d+"), on: [.stdout], deadline: 0, ended: { false })
        #expect(match?.line == "ready 42")
        #expect(OutputWatch(patterns: [], parsesEvents: false, t0: 0).lineHandler(for: .stdout) == nil)
    }

    @Test func peerEventsAreParsedLineByLineWhateverTheChunks() {
        let watch = OutputWatch(patterns: [], parsesEvents: true, t0: 0)
        let handler = watch.lineHandler(for: .stdout)!
        let text = Array(#"{"t":0.1,"call":"connect","result":0}"#.utf8 + [10] + #"{"t":0.2,"call":"read","result":5}"#.utf8 + [10] + "not json".utf8)
        let splitter = NetfaultKernel.LineSplitter(maximumLine: 64 * 1024)
        for chunk in stride(from: 0, to: text.count, by: 7) {
            text[chunk..<min(text.count, chunk + 7)].withUnsafeBytes { splitter.feed($0) { _ = handler($0) } }
        }
        splitter.finish { _ = handler($0) }
        #expect(watch.events.map(\.call) == ["connect", "read"])
        #expect(watch.events.last?.result == 5)
        #expect(watch.lineHandler(for: .stderr) == nil)
    }

    @Test func jsonKeepsHeadTailSizeAndCut() throws {
        let process = ProcessResult(host: "h", name: "w", command: "w", exitStatus: 0, startTime: 0, endTime: 1, events: [],
                                    stdout: ProcessOutput(bytes: 200_000, cut: true, head: "a", tail: "z"))
        let data = try JSONEncoder().encode(process)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let stdout = try #require(object["stdout"] as? [String: Any])
        #expect(stdout["bytes"] as? Int == 200_000 && stdout["cut"] as? Bool == true)
        #expect(stdout["head"] as? String == "a" && stdout["tail"] as? String == "z")
        #expect(try JSONDecoder().decode(ProcessResult.self, from: data) == process)
    }

    @Test func oldJSONWithStderrTextStillReads() throws {
        let old = #"{"host":"h","name":"p","command":"peer","exitStatus":0,"startTime":0,"endTime":1,"events":[],"stderr":"oops\n"}"#
        let process = try JSONDecoder().decode(ProcessResult.self, from: Data(old.utf8))
        #expect(process.stderr == ProcessOutput(bytes: 5, cut: false, head: "oops\n", tail: ""))
        #expect(process.stdout == ProcessOutput())
        #expect(!process.stoppedAtEnd)
    }

    @Test func cutOutputTextSaysHowMuchIsMissing() {
        let output = ProcessOutput(bytes: 10, cut: true, head: "ab", tail: "yz")
        #expect(output.text == "ab\n[… 6 bytes left out …]\nyz")
        #expect(ProcessOutput(bytes: 4, head: "ab\n", tail: "c").lastLine == "c")
    }
}
