import NetfaultKernel

/// The kernel objects a scenario needs, computed without touching the kernel.
public struct NetworkPlan: Sendable {
    /// One end of a link inside a host.
    public struct Interface: Sendable, Equatable {
        /// Its name in the host (eth0, eth1, …).
        public let name: String
        /// Chosen here (lo is 1) so addresses can be added in the same batch as the link.
        public let index: Int32
        /// Its addresses.
        public let addresses: [AddressAssignment]
        /// The host at the link's other end.
        public let peerHost: String
    }

    /// An address on an interface.
    public struct AddressAssignment: Sendable, Equatable {
        /// The address.
        public let address: IPAddress
        /// Its prefix length.
        public let prefixLength: Int
    }

    /// One host's namespace: interfaces, routes, sysctls.
    public struct HostPlan: Sendable {
        /// The host's name.
        public let name: String
        /// Whether it forwards (a router).
        public let forwarding: Bool
        /// Its interfaces, lo aside.
        public var interfaces: [Interface] = []
        /// Its routes beyond the connected ones.
        public var routes: [RoutePlan] = []
        /// Sysctls the plan itself sets (forwarding, DAD).
        public var sysctls: [(name: String, value: String)] = []
    }

    /// One veth pair, both ends created in place.
    public struct LinkPlan: Sendable {
        /// One end: its host, its interface's name and index.
        public let hostA: String, interfaceA: String, indexA: Int32
        /// The other end: its host, its interface's name and index.
        public let hostB: String, interfaceB: String, indexB: Int32
        /// The MTU of both ends; nil for the default.
        public let mtu: Int?
    }

    /// A route: destination prefix via a gateway.
    public struct RoutePlan: Sendable, Equatable {
        /// The destination network.
        public let destination: IPAddress
        /// Its prefix length.
        public let prefixLength: Int
        /// The gateway's address.
        public let gateway: IPAddress
    }

    /// Every host, in scenario order.
    public var hosts: [HostPlan]
    /// Every link, in scenario order.
    public var links: [LinkPlan]

    /// The plan of the host of this name.
    public func host(_ name: String) -> HostPlan? { hosts.first { $0.name == name } }

    /// The first address of `host` of the wanted family, for peers that name hosts.
    public func address(of host: String, ipv6: Bool) -> IPAddress? {
        self.host(host)?.interfaces.lazy.flatMap(\.addresses).first { $0.address.isIPv6 == ipv6 }?.address
    }

    /// Whether any host has an IPv6 address.
    public var usesIPv6: Bool { hosts.contains { $0.interfaces.contains { $0.addresses.contains { $0.address.isIPv6 } } } }

    /// Assumes a validated scenario.
    public init(_ scenario: Scenario) {
        var hosts = scenario.hosts.map { HostPlan(name: $0.name, forwarding: $0.forwarding) }
        func slot(_ name: String) -> Int { hosts.firstIndex { $0.name == name }! }
        var links: [LinkPlan] = []
        for link in scenario.links {
            let a = slot(link.a), b = slot(link.b)
            let subnets = [link.subnet, link.ipv6Subnet].compactMap { $0.flatMap(CIDR.init) }
            let interfaceA = Interface(name: "eth\(hosts[a].interfaces.count)", index: Int32(hosts[a].interfaces.count + 2),
                                       addresses: subnets.map { AddressAssignment(address: $0.host(1), prefixLength: $0.prefixLength) },
                                       peerHost: link.b)
            let interfaceB = Interface(name: "eth\(hosts[b].interfaces.count)", index: Int32(hosts[b].interfaces.count + 2),
                                       addresses: subnets.map { AddressAssignment(address: $0.host(2), prefixLength: $0.prefixLength) },
                                       peerHost: link.a)
            hosts[a].interfaces.append(interfaceA)
            hosts[b].interfaces.append(interfaceB)
            links.append(LinkPlan(hostA: link.a, interfaceA: interfaceA.name, indexA: interfaceA.index,
                                  hostB: link.b, interfaceB: interfaceB.name, indexB: interfaceB.index, mtu: link.mtu))
        }
        for index in hosts.indices {
            // Without this, each interface's link-local address stays tentative (DAD) for
            // 1–2 s after it comes up; a router cannot solicit a neighbour for a packet it
            // forwards until then (the NS source must be a valid link-local), so forwarded
            // IPv6 waited up to 2 s. Addresses in a scenario are unique by construction.
            // Set as `default` before the links exist, so every interface inherits it.
            if hosts[index].interfaces.contains(where: { $0.addresses.contains { $0.address.isIPv6 } }) {
                hosts[index].sysctls.append(("net.ipv6.conf.default.accept_dad", "0"))
            }
            if hosts[index].forwarding {
                hosts[index].sysctls += [("net.ipv4.ip_forward", "1"), ("net.ipv6.conf.all.forwarding", "1")]
            }
        }
        for sysctl in scenario.sysctls { hosts[slot(sysctl.host)].sysctls.append((sysctl.name, sysctl.value)) }
        self.hosts = hosts
        self.links = links
        for route in scenario.routes {
            guard let destination = CIDR(route.destination),
                  let gateway = neighbourAddress(of: route.via, seenFrom: route.host, ipv6: destination.address.isIPv6) else { continue }
            self.hosts[slot(route.host)].routes.append(RoutePlan(destination: destination.address, prefixLength: destination.prefixLength, gateway: gateway))
        }
        // A host whose only link leads to a router routes everything through it.
        for index in self.hosts.indices where self.hosts[index].interfaces.count == 1 && self.hosts[index].routes.isEmpty {
            let neighbour = self.hosts[index].interfaces[0].peerHost
            guard self.host(neighbour)?.forwarding == true else { continue }
            for ipv6 in [false, true] {
                if let gateway = neighbourAddress(of: neighbour, seenFrom: self.hosts[index].name, ipv6: ipv6) {
                    let any = IPAddress(ipv6 ? "::" : "0.0.0.0")!
                    self.hosts[index].routes.append(RoutePlan(destination: any, prefixLength: 0, gateway: gateway))
                }
            }
        }
    }

    /// The address `neighbour` has on the link it shares with `host`.
    public func neighbourAddress(of neighbour: String, seenFrom host: String, ipv6: Bool) -> IPAddress? {
        self.host(neighbour)?.interfaces.first { $0.peerHost == host }?
            .addresses.first { $0.address.isIPv6 == ipv6 }?.address
    }
}

/// An address with a prefix length: "10.77.1.0/24".
public struct CIDR: Sendable, Equatable, CustomStringConvertible {
    /// The address, as written.
    public let address: IPAddress
    /// The prefix length.
    public let prefixLength: Int

    /// Parses "address/length"; nil when it is not one.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPAddress(String(parts[0])), let length = Int(parts[1]),
              length >= 0, length <= address.bytes.count * 8 else { return nil }
        self.address = address
        self.prefixLength = length
    }

    /// The prefix `address`/`prefixLength`.
    public init(address: IPAddress, prefixLength: Int) {
        self.address = address
        self.prefixLength = prefixLength
    }

    /// The n-th address of the subnet (1 = the first usable one).
    public func host(_ n: Int) -> IPAddress { address.network(prefixLength: prefixLength).adding(n) }

    /// Whether `other` lies in this prefix.
    public func contains(_ other: IPAddress) -> Bool {
        other.isIPv6 == address.isIPv6 && other.network(prefixLength: prefixLength) == address.network(prefixLength: prefixLength)
    }

    public var description: String { "\(address)/\(prefixLength)" }
}
