/// A host: one network namespace of its own, with lo up.
public struct Host: ScenarioComponent {
    /// The host's name; its namespace and its processes go by it.
    public let name: String
    /// A router forwards between its links (net.ipv4.ip_forward and IPv6 forwarding on).
    public let forwarding: Bool
    /// Where the host was written.
    public let location: SourceLocation

    /// A network namespace with `lo` up; `forwarding` makes it a router.
    public init(_ name: String, forwarding: Bool = false, file: String = #filePath, line: Int = #line) {
        self.name = name
        self.forwarding = forwarding
        self.location = SourceLocation(file: file, line: line)
    }

    /// This host as an element of a scenario.
    public var element: ScenarioElement { .host(self) }
}

/// A veth pair between two hosts. The first host gets the subnet's first address
/// (.1), the second the next (.2); each end is named ethN in its host, in the
/// order the host's links are written. Offloads are off so segments stay segments.
public struct Link: ScenarioComponent {
    /// The host at one end; it gets the subnet's first address.
    public let a: String
    /// The host at the other end; it gets the subnet's second address.
    public let b: String
    /// An IPv4 subnet in CIDR form, e.g. "10.77.1.0/24".
    public let subnet: String?
    /// An IPv6 subnet, e.g. "fd77:1::/64".
    public let ipv6Subnet: String?
    /// The MTU of both ends; nil for the kernel's default.
    public let mtu: Int?
    /// Where the link was written.
    public let location: SourceLocation

    /// A veth pair between `a` and `b` with addresses from `subnet` and/or `ipv6Subnet` (10.77.0.0/16, fd77::/16).
    public init(_ a: String, _ b: String, subnet: String? = nil, ipv6Subnet: String? = nil, mtu: Int? = nil,
                file: String = #filePath, line: Int = #line) {
        self.a = a
        self.b = b
        self.subnet = subnet
        self.ipv6Subnet = ipv6Subnet
        self.mtu = mtu
        self.location = SourceLocation(file: file, line: line)
    }

    /// This link as an element of a scenario.
    public var element: ScenarioElement { .link(self) }
}

/// A static route on `host` to `destination` (CIDR) through a neighbouring host.
/// Hosts with a single link to a forwarding host get default routes through it
/// without one.
public struct Route: ScenarioComponent {
    /// The host the route is added in.
    public let host: String
    /// The destination prefix.
    public let destination: String
    /// The neighbouring host the route goes through, by name.
    public let via: String
    /// Where the route was written.
    public let location: SourceLocation

    /// A route on `host` to `destination` via `via` (`ip route add DEST via GW`).
    public init(_ host: String, to destination: String, via: String, file: String = #filePath, line: Int = #line) {
        self.host = host
        self.destination = destination
        self.via = via
        self.location = SourceLocation(file: file, line: line)
    }

    /// This route as an element of a scenario.
    public var element: ScenarioElement { .route(self) }
}

/// A sysctl of one host's namespace (net.ipv4.* and net.core.*). A new namespace
/// starts from the kernel's built-in defaults, not the host machine's values.
public struct Sysctl: ScenarioComponent {
    /// The host whose namespace gets the value.
    public let host: String
    /// The sysctl's dotted name ("net.ipv4.tcp_fin_timeout").
    public let name: String
    /// The value, as written to /proc/sys.
    public let value: String
    /// Where the sysctl was written.
    public let location: SourceLocation
    /// Who set it: the scenario itself, or a run's tuning (`Scenario.tuned`).
    public let source: SysctlSource

    /// Sets the per-namespace sysctl `name` to `value` on `host` (`ip netns exec NS sysctl -w NAME=VALUE`).
    public init(_ host: String, _ name: String, _ value: some CustomStringConvertible & Sendable,
                file: String = #filePath, line: Int = #line) {
        self.init(host: host, name: name, value: value.description, location: SourceLocation(file: file, line: line),
                  source: .scenario)
    }

    init(host: String, name: String, value: String, location: SourceLocation, source: SysctlSource) {
        self.host = host
        self.name = name
        self.value = value
        self.location = location
        self.source = source
    }

    /// This sysctl as an element of a scenario.
    public var element: ScenarioElement { .sysctl(self) }
}
