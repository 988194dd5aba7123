/// A scenario: a small network, the processes to run in it, and what must be observed.
///
/// ```swift
/// Scenario("H1", "Three-way handshake") {
///     Host("client"); Host("server")
///     Link("client", "server", subnet: "10.77.1.0/24")
///     Peer("server", on: "server", .listen(port: 8080), .accept, .read(bytes: 5), .close)
///     Wait(0.05)
///     Peer("client", on: "client", .connect(to: "server", port: 8080), .write(bytes: 5), .close)
///     WaitFor(exitOf: "client")
///     Expect.socket(.connection(on: "client", port: 8080), reaches: .established, within: 0.1)
/// }
/// ```
public struct Scenario: Sendable {
    /// The short ID the command line uses ("H2").
    public let id: String
    /// A one-line name: what the scenario shows.
    public let name: String
    /// A few sentences for people: what happens and what Linux does.
    public let summary: String
    /// What the source notes claimed, when the scenario tests a claim.
    public let claim: String?
    /// What the scenario's expectations, when they pass, say of the claim.
    public let verdict: ClaimVerdict
    /// The scenario is stopped (and fails) if its steps take longer than this.
    public let timeLimit: Double
    /// Where the scenario was written.
    public let location: SourceLocation
    /// Everything the body declared, in order.
    public let elements: [ScenarioElement]

    /// A scenario with an ID, a name and a body of hosts, links, sysctls, faults, steps and expectations.
    public init(_ id: String, _ name: String, summary: String = "", claim: String? = nil,
                verdict: ClaimVerdict = .confirmed, timeLimit: Double = 60, file: String = #filePath, line: Int = #line,
                @ScenarioBuilder _ body: () -> [ScenarioElement]) {
        self.id = id
        self.name = name
        self.summary = summary
        self.claim = claim
        self.verdict = verdict
        self.timeLimit = timeLimit
        self.location = SourceLocation(file: file, line: line)
        self.elements = body()
    }

    /// The same scenario with other elements (a tuned copy keeps its identity and lines).
    init(_ scenario: Scenario, elements: [ScenarioElement]) {
        id = scenario.id
        name = scenario.name
        summary = scenario.summary
        claim = scenario.claim
        verdict = scenario.verdict
        timeLimit = scenario.timeLimit
        location = scenario.location
        self.elements = elements
    }

    /// The hosts, in order.
    public var hosts: [Host] { elements.compactMap { if case .host(let h) = $0 { h } else { nil } } }
    /// The links, in order.
    public var links: [Link] { elements.compactMap { if case .link(let l) = $0 { l } else { nil } } }
    /// The extra routes, in order.
    public var routes: [Route] { elements.compactMap { if case .route(let r) = $0 { r } else { nil } } }
    /// The scenario's own sysctls, in order.
    public var sysctls: [Sysctl] { elements.compactMap { if case .sysctl(let s) = $0 { s } else { nil } } }
    /// The steps, in the order they run.
    public var steps: [Step] { elements.compactMap { if case .step(let s) = $0 { s } else { nil } } }
    /// The faults, in order.
    public var faults: [Fault] { elements.compactMap { if case .fault(let f) = $0 { f } else { nil } } }
    /// The link-wide impairments, in order.
    public var impairments: [Impairment] { elements.compactMap { if case .impairment(let i) = $0 { i } else { nil } } }
    /// The expectations, in order.
    public var expectations: [Expectation] {
        elements.compactMap { if case .expectation(let e) = $0 { e } else { nil } }
    }
}

/// How a source note's claim fares on Linux, as a scenario asserts it.
public enum ClaimVerdict: String, Sendable, Codable {
    /// Linux does what the note says.
    case confirmed
    /// Linux does something else; the scenario asserts what.
    case refuted
    /// Part of the claim holds, part does not (the summary says which).
    case partly
}

/// Everything a scenario body can hold.
public enum ScenarioElement: Sendable {
    /// A host.
    case host(Host)
    /// A link.
    case link(Link)
    /// A route.
    case route(Route)
    /// A sysctl.
    case sysctl(Sysctl)
    /// A step.
    case step(Step)
    /// A fault.
    case fault(Fault)
    /// An impairment.
    case impairment(Impairment)
    /// An expectation.
    case expectation(Expectation)
}

/// A value that can stand in a scenario body.
public protocol ScenarioComponent: Sendable {
    /// This component as an element of a scenario.
    var element: ScenarioElement { get }
}

/// Builds a scenario's body from hosts, links, sysctls, faults, steps and expectations, with `if` and `for`.
@resultBuilder
public enum ScenarioBuilder {
    public static func buildExpression(_ component: some ScenarioComponent) -> [ScenarioElement] { [component.element] }
    public static func buildExpression(_ elements: [ScenarioElement]) -> [ScenarioElement] { elements }
    public static func buildBlock(_ parts: [ScenarioElement]...) -> [ScenarioElement] { parts.flatMap { $0 } }
    public static func buildArray(_ parts: [[ScenarioElement]]) -> [ScenarioElement] { parts.flatMap { $0 } }
    public static func buildOptional(_ part: [ScenarioElement]?) -> [ScenarioElement] { part ?? [] }
    public static func buildEither(first part: [ScenarioElement]) -> [ScenarioElement] { part }
    public static func buildEither(second part: [ScenarioElement]) -> [ScenarioElement] { part }
}
