import Foundation
import Testing
@testable import Netfault

/// Bad Command options, output patterns and program expectations: each error's text and line.
@Suite struct ProgramValidationTests {
    private func errors(_ body: () -> [ScenarioElement]) -> [ScenarioError] {
        ScenarioValidator.validate(Scenario("P-1", "programs") {
            Host("h")
            body()
        })
    }

    @Test func validOptionsPass() {
        let found = errors {
            [Command("tool", on: "h", ["true"], environment: .adding(["LC_ALL": "C", "EMPTY": ""]),
                     workingDirectory: "/tmp", input: .file("/etc/hostname")).element,
             WaitFor(output: #"^ready \d+$"#, of: "tool", timeout: 1).element,
             Expect.output(of: "tool", contains: "ready").element,
             Expect.output(of: "tool", matches: "r.a", in: .stderr).element,
             Expect.process("tool", exits: 0, tookAtLeast: 0, tookAtMost: 2).element,
             Expect.that("a check") { _ in .pass("fine") }.element]
        }
        #expect(found.isEmpty, "\(found)")
    }

    @Test func badEnvironmentNames() {
        let line = #line + 1
        let found = errors { [Command("tool", on: "h", ["true"], environment: .replacing(["A=B": "1", "": "2", "C\0": "3", "D": "x\0"])).element] }
        #expect(found.map(\.location.line) == [line, line, line, line])
        #expect(found.contains { $0.message == "command tool: environment variable name \"A=B\" must be non-empty, without = or NUL" })
        #expect(found.contains { $0.message.contains("name \"C\\0\"") })
        #expect(found.contains { $0.message.contains("name \"\"") })
        #expect(found.contains { $0.message == "command tool: environment variable D's value contains NUL" })
    }

    @Test func workingDirectoryMustBeADirectory() {
        let line = #line + 1
        let missing = errors { [Command("tool", on: "h", ["true"], workingDirectory: "/nonexistent/netfault").element] }
        #expect(missing.map(\.description) == ["Tests/NetfaultTests/Programs/ProgramValidationTests.swift:\(line): command tool: working directory /nonexistent/netfault does not exist"])
        let file = errors { [Command("tool", on: "h", ["true"], workingDirectory: "/etc/hostname").element] }
        #expect(file.map(\.message) == ["command tool: working directory /etc/hostname is not a directory"])
    }

    @Test func inputFileMustBeReadable() throws {
        let missing = errors { [Command("tool", on: "h", ["true"], input: .file("/nonexistent/in")).element] }
        #expect(missing.map(\.message) == ["command tool: input file /nonexistent/in does not exist"])
        let directory = errors { [Command("tool", on: "h", ["true"], input: .file("/tmp")).element] }
        #expect(directory.map(\.message) == ["command tool: input file /tmp is a directory"])
        // Root reads any file, whatever its mode: only a non-root run can see this one.
        if geteuid() != 0 {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("nf-unreadable-\(getpid())").path
            FileManager.default.createFile(atPath: path, contents: Data("x".utf8), attributes: [.posixPermissions: 0o000])
            defer { try? FileManager.default.removeItem(atPath: path) }
            let unreadable = errors { [Command("tool", on: "h", ["true"], input: .file(path)).element] }
            #expect(unreadable.map(\.message) == ["command tool: input file \(path) is not readable"])
        }
    }

    @Test func argumentsAndProcessNames() {
        let found = errors { [Command("a/b", on: "h", ["true", "x\0y"]).element] }
        #expect(found.map(\.message).sorted() == [
            "command a/b: argument \"x\\0y\" contains NUL",
            "process name \"a/b\" must be non-empty, not . or .., and without / or NUL (it names its output files)",
        ])
    }

    @Test func unknownProcessesAndInvalidPatterns() {
        let waitLine = #line + 2
        let found = errors {
            [WaitFor(output: "ready", of: "ghost").element,
             Command("tool", on: "h", ["true"]).element,
             WaitFor(output: "(unclosed", of: "tool").element,
             Expect.output(of: "nobody", contains: "x").element,
             Expect.output(of: "tool", contains: "two\nlines").element,
             Expect.output(of: "tool", matches: "").element,
             Expect.process("nobody", exits: 0).element]
        }
        #expect(found.first { $0.location.line == waitLine }?.message == "WaitFor(output:) names \"ghost\", which no earlier step starts")
        let messages = found.map(\.message)
        #expect(messages.contains("/(unclosed/ is not a valid regular expression"))
        #expect(messages.filter { $0 == "expectation names process \"nobody\", which no step starts" }.count == 2)
        #expect(messages.contains("output is matched line by line: \"two\nlines\" holds a newline, so it can never match"))
        #expect(messages.contains("an output pattern must not be empty"))
        #expect(found.count == 6, "\(found)")
    }

    @Test func durationsAndChecks() {
        let found = errors {
            [Command("tool", on: "h", ["true"]).element,
             Expect.process("tool", tookAtLeast: 3, tookAtMost: 2).element,
             Expect.process("tool", tookAtMost: -1).element,
             Expect.that("  ") { _ in .pass("") }.element]
        }
        #expect(found.map(\.message) == [
            "tookAtLeast 3.0 s is more than tookAtMost 2.0 s",
            "a duration must not be negative",
            "Expect.that needs a description saying what it checks",
        ])
    }
}
