import NetfaultKernel

/// The namespaces and links of one scenario. Everything it makes lives inside
/// its namespaces, which vanish when `tearDown()` closes them (or the process dies).
public final class Network {
    /// Each host's namespace, by host name.
    public private(set) var namespaces: [String: NetworkNamespace] = [:]
    /// Host names in plan order, for stable iteration.
    public let hostNames: [String]

    /// Builds the plan: namespaces, sysctls, veth pairs created in place, lo up,
    /// addresses, routes, offloads off, each flow's segments kept in order (`ReceiveSteering`).
    /// On any error, what was built is torn down. `pinPrefix` mounts each namespace at
    /// /run/netns/<pinPrefix><host>. The benchmark leaves out lo, offloads and steering
    /// (`disableOffloads: false`) to do exactly what its ip script does.
    /// `singleSegmentInterfaces` ("host/interface"): links whose two ends are made with
    /// IFLA_GSO_MAX_SEGS 1, so TCP builds one-segment skbs on them (the in-kernel fault
    /// engine sees skbs at tc egress, before segmentation).
    public init(plan: NetworkPlan, pinPrefix: String? = nil, loopback: Bool = true, disableOffloads: Bool = true,
                singleSegmentInterfaces: Set<String> = []) throws {
        hostNames = plan.hosts.map(\.name)
        do {
            for host in plan.hosts {
                let namespace = try NetworkNamespace(name: host.name)
                namespaces[host.name] = namespace
                if let pinPrefix { try namespace.pin(as: pinPrefix + host.name) }
                for sysctl in host.sysctls { try SysctlAccess.write(sysctl.name, sysctl.value, in: namespace) }
            }
            for link in plan.links {
                let a = namespaces[link.hostA]!, b = namespaces[link.hostB]!
                let single = singleSegmentInterfaces.contains("\(link.hostA)/\(link.interfaceA)")
                    || singleSegmentInterfaces.contains("\(link.hostB)/\(link.interfaceB)")
                try a.rtnetlink().perform([Rtnetlink.newVeth(
                    name: link.interfaceA, index: link.indexA, peer: link.interfaceB, peerIndex: link.indexB,
                    peerNamespaceFD: b.fd, mtu: link.mtu.map(UInt32.init), gsoMaxSegments: single ? 1 : nil)])
            }
            for host in plan.hosts {
                let namespace = namespaces[host.name]!
                var requests = loopback ? [Rtnetlink.setUp(index: 1, name: "lo")] : []
                for interface in host.interfaces {
                    requests.append(Rtnetlink.setUp(index: interface.index, name: interface.name))
                    for assignment in interface.addresses {
                        requests.append(Rtnetlink.newAddress(assignment.address, prefixLength: UInt8(assignment.prefixLength),
                                                             linkIndex: interface.index, link: interface.name))
                    }
                }
                for route in host.routes {
                    requests.append(Rtnetlink.newRoute(destination: route.destination, prefixLength: UInt8(route.prefixLength),
                                                       gateway: route.gateway))
                }
                try namespace.rtnetlink().perform(requests)
                if disableOffloads {
                    try LinkOffloads.disable(links: host.interfaces.map(\.name), in: namespace)
                    try ReceiveSteering.keepFlowsInOrder(links: host.interfaces.map(\.name), in: namespace)
                }
            }
        } catch {
            tearDown()
            throw error
        }
    }

    /// The namespace of `host`.
    public func namespace(_ host: String) -> NetworkNamespace? { namespaces[host] }

    /// Drops every namespace: their links, addresses and sockets go with them.
    public func tearDown() {
        namespaces.removeAll()
    }
}
