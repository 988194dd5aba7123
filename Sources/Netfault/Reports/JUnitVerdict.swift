/// How one scenario appears in JUnit: CI systems distinguish a failed check (`failure`)
/// from a scenario that could not be checked at all (`error`).
enum JUnitVerdict: Equatable {
    case passed
    case failure(message: String, text: String)
    case error(message: String)
    case skipped(reason: String?)

    /// A failed expectation always wins over the status, so a failure is never hidden from CI
    /// even if a scenario's status and expectations disagree.
    init(_ scenario: ScenarioResult) {
        let failedMessages = scenario.expectations.filter { !$0.passed }.map(\.failureMessage)
        let errorLines = scenario.error.map { ["error: \($0)"] } ?? []

        if scenario.status == .skipped {
            self = .skipped(reason: scenario.skipReason)
        } else if let firstFailure = failedMessages.first {
            self = .failure(message: firstFailure, text: (failedMessages + errorLines).joined(separator: "\n"))
        } else if let error = scenario.error {
            self = .error(message: error)
        } else if scenario.status == .failed {
            self = .failure(message: "scenario failed", text: "scenario failed without a failed expectation")
        } else {
            self = .passed
        }
    }

    var isFailure: Bool { if case .failure = self { true } else { false } }
    var isError: Bool { if case .error = self { true } else { false } }
    var isSkipped: Bool { if case .skipped = self { true } else { false } }
}
