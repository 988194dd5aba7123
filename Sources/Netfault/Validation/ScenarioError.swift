/// A scenario that cannot be built as written: what is wrong, and where.
public struct ScenarioError: Error, CustomStringConvertible, Sendable, Equatable {
    /// Where the problem was written.
    public let location: SourceLocation
    /// What is wrong.
    public let message: String

    /// A problem `message` at `location`.
    public init(_ location: SourceLocation, _ message: String) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(message)" }
}

/// All the problems found in one scenario, reported together.
public struct InvalidScenario: Error, CustomStringConvertible, Sendable {
    /// The scenario's ID.
    public let scenarioID: String
    /// Every problem found, in order.
    public let errors: [ScenarioError]

    /// The problems of scenario `scenarioID`.
    public init(scenarioID: String, errors: [ScenarioError]) {
        self.scenarioID = scenarioID
        self.errors = errors
    }

    public var description: String {
        "scenario \(scenarioID) is invalid:\n" + errors.map { "  \($0)" }.joined(separator: "\n")
    }
}

/// Faults the forced backend (`--fault-backend`, `RunOptions.faultBackend`) or an
/// impairment's own `backend:` cannot serve: found before anything is built (exit 4).
public struct UnservableFaults: Error, CustomStringConvertible, Sendable {
    /// The scenario's id.
    public let scenarioID: String
    /// Each fault the forced backend cannot serve, with its file and line.
    public let errors: [ScenarioError]

    /// The faults of `scenarioID` that the forced backend cannot serve.
    public init(scenarioID: String, errors: [ScenarioError]) {
        self.scenarioID = scenarioID
        self.errors = errors
    }

    public var description: String {
        "scenario \(scenarioID) has faults the chosen backend cannot serve:\n" + errors.map { "  \($0)" }.joined(separator: "\n")
    }
}
