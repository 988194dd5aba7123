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
    /// The host name meaning every host.
    public static let everyHost = "*"

    /// The host, or `*` for every host.
    public let host: String
    /// The sysctl's dotted name.
    public let name: String
    /// The value, as written to /proc/sys.
    public let value: String
    /// The line that asked for it, or the command-line option as given: errors point here.
    public let location: SourceLocation

    /// Sets `name` to `value` on `host` over the scenario's own, located at the caller's line.
    public init(_ host: String, _ name: String, _ value: some CustomStringConvertible & Sendable,
                file: String = #filePath, line: Int = #line) {
        self.init(host: host, name: name, value: value.description, location: SourceLocation(file: file, line: line))
    }

    /// An override located at `location` (a command-line argument's).
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
    /// The sysctl's dotted name.
    public let name: String
    /// This machine's value.
    public let value: String

    /// The host's `name` = `value`.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// What was written into one host's namespace, and why: each scenario's result lists them.
public struct AppliedSysctl: Sendable, Equatable, Codable {
    /// The host whose namespace it was written in.
    public var host: String
    /// The sysctl's dotted name.
    public var name: String
    /// The value written.
    public var value: String
    /// Why: the host's own, the scenario's, or an override.
    public var source: SysctlSource

    /// `name` = `value` written on `host`, from `source`.
    public init(host: String, name: String, value: String, source: SysctlSource) {
        self.host = host
        self.name = name
        self.value = value
        self.source = source
    }
}
