/// Expectations on any program: its output, how long it ran, and checks written in Swift.
extension Expect {
    /// A line of `process`'s output (stdout unless `stream` says otherwise) contains `text`.
    /// Lines are matched as they stream, so this holds even when the record of the output is cut.
    public static func output(of process: String, contains text: String, in stream: StandardStream = .stdout,
                              file: String = #filePath, line: Int = #line) -> Expectation {
        Expectation(.output(process: process, .contains(text), stream), file: file, line: line)
    }

    /// A line of `process`'s output (stdout unless `stream` says otherwise) matches the
    /// regular expression `pattern` (NSRegularExpression syntax), each line without its newline.
    public static func output(of process: String, matches pattern: String, in stream: StandardStream = .stdout,
                              file: String = #filePath, line: Int = #line) -> Expectation {
        Expectation(.output(process: process, .matches(pattern), stream), file: file, line: line)
    }

    /// `process` exited (with status `exits`, when given) and ran at least `tookAtLeast` and at
    /// most `tookAtMost` seconds from its start to its end: `Expect.process("curl", exits: 0, tookAtMost: 2)`.
    public static func process(_ process: String, exits status: Int32? = nil, tookAtLeast: Double? = nil,
                               tookAtMost: Double? = nil, file: String = #filePath, line: Int = #line) -> Expectation {
        Expectation(.processRun(process: process, exitStatus: status, tookAtLeast: tookAtLeast, tookAtMost: tookAtMost),
                    file: file, line: line)
    }

    /// A check of your own over the recorded result (processes with their output, segments,
    /// sockets, counters), judged after the run like every other expectation:
    ///
    /// ```swift
    /// Expect.that("curl connected after the SYN-ACK retransmission") { result in
    ///     guard let text = result.process("curl")?.stdout.text, let seconds = Double(text) else {
    ///         return .fail("no time_connect printed")
    ///     }
    ///     return seconds >= 1 ? .pass("time_connect \(seconds) s") : .fail("time_connect \(seconds) s")
    /// }
    /// ```
    /// An error the closure throws fails the check, with the error as what was observed.
    public static func that(_ description: String, file: String = #filePath, line: Int = #line,
                            _ check: @escaping @Sendable (ScenarioResult) throws -> CheckOutcome) -> Expectation {
        Expectation(.check(UserCheck(description: description, body: check)), file: file, line: line)
    }
}

/// A check written in Swift: its description and the closure that judges the result.
public struct UserCheck: Sendable {
    /// What the check is about, as reports show it.
    public let description: String
    let body: @Sendable (ScenarioResult) throws -> CheckOutcome

    /// A check named `description` whose `body` judges the recorded result.
    public init(description: String, body: @escaping @Sendable (ScenarioResult) throws -> CheckOutcome) {
        self.description = description
        self.body = body
    }

    /// Runs the closure; a thrown error is a failure that says what was thrown.
    public func judge(_ result: ScenarioResult) -> CheckOutcome {
        do { return try body(result) } catch { return .fail("the check threw: \(error)") }
    }
}

/// What a user-written check decided, with what it saw ("time_connect 1.02 s").
public enum CheckOutcome: Sendable, Equatable {
    /// The check passed; the text is what it observed.
    case pass(String)
    /// The check failed; the text is what it observed.
    case fail(String)

    /// Whether the check passed.
    public var passed: Bool { if case .pass = self { true } else { false } }
    /// What the check observed, passed or not.
    public var observed: String {
        switch self {
        case .pass(let text), .fail(let text): text
        }
    }
}
