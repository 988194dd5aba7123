/// Where a namespace's sysctl value came from; later cases win over earlier ones.
public enum SysctlSource: String, Codable, Sendable {
    /// `--host-sysctls`: this machine's own value (see `HostSysctls`).
    case host
    /// The scenario's own `Sysctl(…)`.
    case scenario
    /// `--sysctl`, `Scenario.tuned(overrides:)` or a sweep's value.
    case override
}

/// A sysctl set for one run without editing the scenario. `host` may be `*`: every host.
///
/// ```swift
/// let result = try await Catalog.lostSyn.run(sysctls: [SysctlOverride("client", "net.ipv4.tcp_syn_retries", 2)])
/// ```
public struct SysctlOverride: Sendable, Equatable {
    public static let everyHost = "*"

    public let host: String
    public let name: String
    public let value: String
    /// The line that asked for it, or the command-line option as given: errors point here.
    public let location: SourceLocation

    public init(_ host: String, _ name: String, _ value: some CustomStringConvertible & Sendable,
                file: String = #filePath, line: Int = #line) {
        self.init(host: host, name: name, value: value.description, location: SourceLocation(file: file, line: line))
    }

    public init(host: String, name: String, value: String, location: SourceLocation) {
        self.host = host
        self.name = name
        self.value = value
        self.location = location
    }
}

/// A sysctl of this machine's own that a new namespace does not have by default
/// (found by `HostSysctls.differences`), applied to every host by `--host-sysctls`.
public struct HostSysctl: Sendable, Equatable {
    public let name: String
    public let value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// What was written into one host's namespace, and why: each scenario's result lists them.
public struct AppliedSysctl: Sendable, Equatable, Codable {
    public var host: String
    public var name: String
    public var value: String
    public var source: SysctlSource

    public init(host: String, name: String, value: String, source: SysctlSource) {
        self.host = host
        self.name = name
        self.value = value
        self.source = source
    }
}
