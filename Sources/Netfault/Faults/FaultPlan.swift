import NetfaultKernel

/// Where each fault and impairment of a scenario runs, computed without the
/// kernel: per host, the queue rules that send exactly the packets some fault
/// may touch to the verdict engine, and the faults that engine applies; per
/// link direction, the netem qdiscs.
public struct FaultPlan: Sendable {
    /// The precise backend's work on one host.
    public struct HostWork: Sendable {
        /// The host.
        public let host: String
        /// The nf_tables rules that queue what its faults may touch.
        public var rules: [QueueRule] = []
        /// The faults its verdict engine applies.
        public var faults: [PlacedFault] = []
        /// The impairments its verdict engine applies.
        public var impairments: [PlacedImpairment] = []
        /// How much of each packet the queue copies: headers only, unless a
        /// fault must send a packet again or change it.
        public var copyRange: UInt32 = FaultPlan.headerCopyRange
        /// Some fault sends copies (duplicates), through a raw socket.
        public var injects = false
    }

    /// A netem qdisc on one interface.
    public struct Qdisc: Sendable {
        /// The host whose interface gets the qdisc.
        public let host: String
        /// The interface's name.
        public let interface: String
        /// The interface's index.
        public let interfaceIndex: Int32
        /// The netem options.
        public let options: NetemOptions
    }

    /// One line of the report: what, and which backend serves it.
    public struct Summary: Sendable, Equatable, Codable {
        /// The fault or impairment, in words.
        public let description: String
        /// "nfqueue" or "netem".
        public let backend: String
    }

    /// IPv6 (40) plus the longest TCP header (60), rounded up.
    public static let headerCopyRange: UInt32 = 128
    /// A copy range that takes the whole packet.
    public static let wholePacket: UInt32 = 0xFFFF
    /// Packets netfault sends itself carry this mark; its queue rules skip them.
    public static let injectedMark: UInt32 = 0x4E46_0001

    /// The precise backend's work, per host.
    public private(set) var hosts: [HostWork] = []
    /// The netem qdiscs.
    public private(set) var qdiscs: [Qdisc] = []
    /// Each fault and impairment with its backend, for the report.
    public private(set) var summary: [Summary] = []
    /// Set when the scenario insists on netem and this kernel has none.
    public private(set) var skipReason: String?

    /// Whether the scenario has no fault and no impairment.
    public var isEmpty: Bool { hosts.isEmpty && qdiscs.isEmpty }

    /// Assumes a validated scenario.
    public init(_ scenario: Scenario, network: NetworkPlan, netemAvailable: Bool) {
        for fault in scenario.faults {
            for (host, placed, interface) in Self.placements(of: fault, in: network) {
                add(placed, on: host, interface: interface)
            }
            summary.append(Summary(description: fault.name, backend: "nfqueue"))
        }
        for impairment in scenario.impairments {
            guard let interface = network.host(impairment.from)?.interfaces.first(where: { $0.peerHost == impairment.to })
            else { continue }
            let useNetem: Bool
            switch impairment.backend {
            case .automatic: useNetem = netemAvailable
            case .nfqueue: useNetem = false
            case .netem:
                useNetem = true
                if !netemAvailable {
                    skipReason = "\(impairment.location): the impairment asks for netem, and this kernel has no sch_netem"
                }
            }
            if useNetem {
                qdiscs.append(Qdisc(host: impairment.from, interface: interface.name, interfaceIndex: interface.index,
                                    options: NetemOptions(impairment)))
            } else {
                let placed = PlacedImpairment(impairment, interfaceIndex: UInt32(interface.index))
                update(impairment.from) { work in
                    work.impairments.append(placed)
                    work.rules.append(QueueRule(hook: .postrouting, outputInterface: interface.name, tcpOnly: false))
                    if placed.needsPayload { work.copyRange = Self.wholePacket }
                    if placed.duplicate > 0 { work.injects = true }
                }
            }
            summary.append(Summary(description: impairment.description, backend: useNetem ? "netem" : "nfqueue"))
        }
    }

    // MARK: - Placement

    /// The hosts whose egress a fault acts on, with the fault as placed there.
    static func placements(of fault: Fault, in network: NetworkPlan) -> [(String, PlacedFault, interface: String?)] {
        func placed(_ kind: SegmentKind?, _ occurrence: Occurrence, _ port: Int?, interface: NetworkPlan.Interface?,
                    destinations: Set<PacketAddress>? = nil) -> PlacedFault {
            PlacedFault(name: fault.name, action: fault.action, kind: kind, occurrence: occurrence,
                        port: port.map { UInt16($0) }, window: fault.window,
                        interfaceIndex: interface.map { UInt32($0.index) }, destinations: destinations)
        }
        /// The interfaces of `host`'s neighbours that lead to it: a host's ingress is their egress.
        func towards(_ host: String) -> [(String, NetworkPlan.Interface)] {
            network.links.flatMap { link -> [(String, NetworkPlan.Interface)] in
                if link.hostB == host, let i = network.host(link.hostA)?.interfaces.first(where: { $0.name == link.interfaceA }) {
                    return [(link.hostA, i)]
                }
                if link.hostA == host, let i = network.host(link.hostB)?.interfaces.first(where: { $0.name == link.interfaceB }) {
                    return [(link.hostB, i)]
                }
                return []
            }
        }
        func addresses(of host: String) -> Set<PacketAddress> {
            Set(network.host(host)?.interfaces.flatMap(\.addresses).map { PacketAddress($0.address.bytes) } ?? [])
        }
        switch fault.target {
        case .segments(let kind, let place, let occurrence, let port):
            switch place {
            case .link(let from, let to):
                return (network.host(from)?.interfaces ?? []).filter { $0.peerHost == to }.map {
                    (from, placed(kind, occurrence, port, interface: $0), $0.name)
                }
            case .egress(let host):
                return [(host, placed(kind, occurrence, port, interface: nil), nil)]
            case .ingress(let host):
                return towards(host).map { ($0.0, placed(kind, occurrence, port, interface: $0.1), $0.1.name) }
            }
        case .partition(let a, let b):
            return [(a, placed(nil, .all, nil, interface: nil, destinations: addresses(of: b)), nil),
                    (b, placed(nil, .all, nil, interface: nil, destinations: addresses(of: a)), nil)]
        case .blackhole(let host):
            return [(host, placed(nil, .all, nil, interface: nil), nil)]
                + towards(host).map { ($0.0, placed(nil, .all, nil, interface: $0.1), $0.1.name) }
        }
    }

    private mutating func add(_ fault: PlacedFault, on host: String, interface: String?) {
        update(host) { work in
            work.faults.append(fault)
            work.rules += Self.rules(for: fault, interface: interface)
            if fault.action == .duplicate {
                work.copyRange = Self.wholePacket
                work.injects = true
            }
        }
    }

    private mutating func update(_ host: String, _ change: (inout HostWork) -> Void) {
        if let index = hosts.firstIndex(where: { $0.host == host }) {
            change(&hosts[index])
        } else {
            var work = HostWork(host: host)
            change(&work)
            hosts.append(work)
        }
    }

    // MARK: - Queue rules

    /// The rules that queue every packet `fault` may act on (and what its kind
    /// needs to be told apart), and no other.
    static func rules(for fault: PlacedFault, interface: String?) -> [QueueRule] {
        guard let kind = fault.kind else {
            let destinations = fault.destinations.map { Array($0).sorted { ($0.high, $0.low) < ($1.high, $1.low) } }
            guard let destinations else { return [QueueRule(hook: .postrouting, outputInterface: interface, tcpOnly: false)] }
            return destinations.map {
                QueueRule(hook: .postrouting, outputInterface: interface, tcpOnly: false,
                          destination: AddressPrefix(address: IPAddress(bytes: $0.bytes)!, length: $0.isIPv6 ? 128 : 32)!)
            }
        }
        // A reordering counts the segments that overtake: it needs the whole flow.
        let effective: SegmentKind = if case .reorder = fault.action { .any } else { kind }
        var rules = flagFilters(effective).map { QueueRule(hook: .postrouting, outputInterface: interface, tcpOnly: true, tcpFlags: $0) }
        // Telling a handshake ACK needs the SYN of its direction; an ACK of a FIN, the other side's FIN.
        if effective == .handshakeAck {
            rules.append(QueueRule(hook: .postrouting, outputInterface: interface, tcpOnly: true, tcpFlags: [.synWithoutAck]))
        }
        if effective == .finAck {
            rules.append(QueueRule(hook: .prerouting, tcpOnly: true, tcpFlags: [.has(TCPFlagMatch.fin)]))
        }
        guard let port = fault.port else { return rules }
        // Either end: one rule per side.
        return rules.flatMap { rule -> [QueueRule] in
            var bySource = rule, byDestination = rule
            bySource.sourcePort = port
            byDestination.destinationPort = port
            return [bySource, byDestination]
        }
    }

    /// The flag tests that let through every segment of `kind` (and as few others as flags allow).
    static func flagFilters(_ kind: SegmentKind) -> [[TCPFlagMatch]] {
        let (fin, syn, rst, ack) = (TCPFlagMatch.fin, TCPFlagMatch.syn, TCPFlagMatch.rst, TCPFlagMatch.ack)
        return switch kind {
        case .syn: [[.synWithoutAck]]
        case .synAck: [[.has(syn | ack)]]
        case .fin: [[.has(fin)]]
        case .rst: [[.has(rst)]]
        // Payload length is not a flag: these queue every segment without SYN, FIN and RST.
        case .handshakeAck, .pureAck, .finAck: [[TCPFlagMatch(mask: syn | fin | rst, value: 0)]]
        case .data: [[TCPFlagMatch(mask: syn | rst, value: 0)]]
        case .any: [[]]
        }
    }
}
