import NetfaultKernel

/// Where each fault and impairment of a scenario runs, computed without the
/// kernel: per host one engine for its segment faults — the in-kernel one (tc BPF
/// programs, with an `fq` root qdisc where they delay) or the NFQUEUE verdict engine
/// with the queue rules that send exactly the packets some fault may touch — and per
/// link direction the netem qdiscs. A host's faults never span two engines: the
/// verdict semantics (the first fault that selects acts, every covering fault counts)
/// span all of them.
public struct FaultPlan: Sendable {
    /// Where one host's segment faults run.
    public enum Engine: Sendable, Equatable {
        /// tc BPF programs on the host's interfaces; `fq`: with an fq root qdisc for delays.
        case kernel(fq: Bool)
        /// nf_tables rules queueing to the verdict engine in netfault's process.
        case nfqueue
    }

    /// One host's fault engine and its work.
    public struct HostWork: Sendable {
        /// The host.
        public let host: String
        /// Where its faults run.
        public var engine: Engine = .nfqueue
        /// Why the host's faults are not in the kernel (nil when they are, or when nothing was asked).
        public var reason: String?
        /// The NFQUEUE rules (empty for a kernel engine).
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
        /// For a kernel engine: the interfaces its programs attach to (egress), in index order.
        public var interfaces: [KernelInterface] = []

        /// "bpf", "bpf+fq" or "nfqueue".
        public var backendName: String {
            switch engine {
            case .kernel(let fq): fq ? FaultPlan.Backend.bpfFQ.rawValue : FaultPlan.Backend.bpf.rawValue
            case .nfqueue: FaultPlan.Backend.nfqueue.rawValue
            }
        }
    }

    /// An interface a kernel engine attaches to, and the fq qdisc it needs there (if it delays).
    public struct KernelInterface: Sendable, Equatable {
        /// The interface's name in its host's namespace.
        public let name: String
        /// The interface's index in its host's namespace.
        public let index: Int32
        /// The fq root qdisc's options; nil when nothing on this interface is held.
        public var fq: FQOptions?
        /// A kernel-run fault or impairment may hold data, FIN or any segment here for a time
        /// of its own (a delay rule, jitter, reordering): TCP must build one-segment skbs on
        /// this link (IFLA_GSO_MAX_SEGS 1), since a GSO packet leaves in one piece, when its
        /// segments would leave at different times.
        public var singleSegments: Bool
        /// A kernel-run drop, duplicate or corruption may hit a segment inside a GSO packet
        /// here: the engine's `fault_peer` carries it out at the link's other end, where the
        /// segments arrive one by one (netfault's links have segmentation offloads off), or,
        /// when only a packet's last segment can be hit, its detour in the host
        /// (`TCFaultEngine.attachDetour`).
        public var handsOver = false
        /// A kernel-run impairment corrupts packets here: checksum offload goes off on both
        /// ends, so the sender sums in software after the tc hook and the receiver checks.
        public var corrupts = false
        /// The other end of the link: its host and interface name.
        public var peerHost: String? = nil
        /// The other end of its link (`host/interface`), when it must change too (offloads).
        public var peerInterface: String? = nil
        /// The other end's interface index, in the peer's namespace.
        public var peerIndex: Int32? = nil
    }

    /// Where a fault or impairment ran, as the JSON names it.
    public enum Backend: String, Sendable, Codable, CaseIterable {
        /// tc-BPF programs on the host's interfaces.
        case bpf
        /// tc-BPF programs, with an fq root qdisc that holds delayed packets.
        case bpfFQ = "bpf+fq"
        /// nf_tables rules and the verdict engine in netfault's process.
        case nfqueue
        /// A netem qdisc (link-wide impairments only).
        case netem
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

    /// One line of the report: what, which backend serves it, and why it is not in the kernel when it is not.
    public struct Summary: Sendable, Equatable, Codable {
        /// The fault or impairment, in words.
        public let description: String
        /// "bpf", "bpf+fq", "nfqueue" or "netem".
        public let backend: String
        /// Why it does not run in the kernel (nil when it does).
        public var reason: String?

        /// A line of the report: what, its backend, and why it is not in the kernel.
        public init(description: String, backend: String, reason: String? = nil) {
            self.description = description
            self.backend = backend
            self.reason = reason
        }
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
    /// Set when the scenario insists on a backend this kernel lacks (netem, or bpf for an impairment).
    public private(set) var skipReason: String?
    /// Faults the forced backend (`--fault-backend`, `RunOptions.faultBackend`) or an
    /// impairment's own `backend:` cannot serve: bad input, found before anything is built.
    public private(set) var errors: [ScenarioError] = []

    /// Whether the scenario has no fault and no impairment.
    public var isEmpty: Bool { hosts.isEmpty && qdiscs.isEmpty }

    /// The hosts whose faults run in the kernel.
    public var kernelHosts: [HostWork] { hosts.filter { $0.engine != .nfqueue } }
    /// The hosts whose faults run on the NFQUEUE engine.
    public var queueHosts: [HostWork] { hosts.filter { $0.engine == .nfqueue } }

    /// "host/interface" of every link end that must carry one-segment skbs.
    public var singleSegmentInterfaces: Set<String> {
        Set(kernelHosts.flatMap { work in work.interfaces.filter(\.singleSegments).map { "\(work.host)/\($0.name)" } })
    }

    /// The plan as before the in-kernel engine: segment faults on NFQUEUE, impairments on
    /// netem where the kernel has it. Assumes a validated scenario.
    public init(_ scenario: Scenario, network: NetworkPlan, netemAvailable: Bool) {
        self.init(scenario, network: network,
                  support: KernelFaultSupport(tcBPF: false, tcBPFProblem: "not asked", fq: false, fqProblem: "not asked",
                                              netem: netemAvailable, netemProblem: netemAvailable ? nil : "this kernel has no sch_netem"),
                  force: .auto)
        // Nothing was asked of the kernel: no reasons to give.
        summary = summary.map { Summary(description: $0.description, backend: $0.backend) }
        for index in hosts.indices { hosts[index].reason = nil }
    }

    /// Chooses every fault's backend for this kernel (`support`) and the forced choice. Assumes a validated scenario.
    public init(_ scenario: Scenario, network: NetworkPlan, support: KernelFaultSupport, force: FaultBackendChoice = .auto) {
        let forceLabel = "--fault-backend \(force.rawValue)"
        // 1. Each fault as placed on each host.
        var placements: [(fault: Fault, host: String, placed: PlacedFault, interface: String?)] = []
        for fault in scenario.faults {
            for (host, placed, interface) in Self.placements(of: fault, in: network) {
                placements.append((fault, host, placed, interface))
            }
        }
        // 2. Each impairment: netem, or the engine of its host (kernel or NFQUEUE, decided below).
        enum ImpairmentTarget { case netem, engine }
        var impairmentTargets: [(impairment: Impairment, interface: NetworkPlan.Interface, target: ImpairmentTarget)] = []
        var hostsWithSegmentFaults = Set(placements.map(\.host))
        // What keeps a host out of the kernel, first reason per host.
        var obstacles: [String: String] = [:]
        func block(_ host: String, _ reason: String) { if obstacles[host] == nil { obstacles[host] = reason } }
        for placement in placements {
            if let reason = Self.kernelObstacle(placement.placed, support: support) {
                if force == .bpf {
                    errors.append(ScenarioError(placement.fault.location,
                                                "\(forceLabel) cannot serve fault \"\(placement.fault.name)\": \(reason)"))
                }
                block(placement.host, "fault \"\(placement.fault.name)\": \(reason)")
            }
        }
        for impairment in scenario.impairments {
            guard let interface = network.host(impairment.from)?.interfaces.first(where: { $0.peerHost == impairment.to })
            else { continue }
            let placed = PlacedImpairment(impairment, interfaceIndex: UInt32(interface.index))
            let obstacle = Self.kernelObstacle(placed, support: support)
            let target: ImpairmentTarget
            switch (impairment.backend, force) {
            case (.netem, _):
                target = .netem
                if !support.netem {
                    skipReason = "\(impairment.location): the impairment asks for netem, and \(support.netemProblem ?? "this kernel has no sch_netem")"
                }
            case (.nfqueue, .bpf):
                errors.append(ScenarioError(impairment.location, "\(forceLabel) cannot serve impairment \(impairment.description): it asks for nfqueue"))
                target = .engine
            case (.nfqueue, _):
                target = .engine
                block(impairment.from, "impairment \(impairment.description) asks for nfqueue")
            case (.bpf, .nfqueue):
                errors.append(ScenarioError(impairment.location, "\(forceLabel) cannot serve impairment \(impairment.description): it asks for bpf"))
                target = .engine
            case (.bpf, _), (.automatic, .bpf):
                target = .engine
                if let obstacle {
                    if Self.isKernelLack(placed, support: support) && force != .bpf {
                        skipReason = skipReason ?? "\(impairment.location): the impairment asks for bpf, and \(obstacle)"
                    } else {
                        errors.append(ScenarioError(impairment.location,
                                                    "\(force == .bpf ? forceLabel : "backend: .bpf") cannot serve impairment \(impairment.description): \(obstacle)"))
                    }
                    block(impairment.from, "impairment \(impairment.description): \(obstacle)")
                }
            case (.automatic, .nfqueue):
                target = .engine
                block(impairment.from, "\(forceLabel)")
            case (.automatic, .auto):
                // In the kernel where it can (and the host's faults can), else netem, else NFQUEUE.
                if support.tcBPF, obstacle == nil, obstacles[impairment.from] == nil {
                    target = .engine
                } else if support.netem {
                    target = .netem
                } else {
                    target = .engine
                    block(impairment.from, "impairment \(impairment.description): \(obstacle ?? support.tcBPFProblem ?? "not in the kernel"), and \(support.netemProblem ?? "no netem")")
                }
            }
            if target == .engine { hostsWithSegmentFaults.insert(impairment.from) }
            impairmentTargets.append((impairment, interface, target))
        }
        // The tc engine's tables have room for so many entries per host.
        for host in Set(placements.map(\.host)) {
            let count = placements.filter { $0.host == host }.count
            if count > TCFaultEngine.maxRules { block(host, "\(count) faults on \(host) (the kernel engine holds \(TCFaultEngine.maxRules))") }
        }
        for host in Set(impairmentTargets.map(\.impairment.from)) {
            let count = impairmentTargets.filter { $0.impairment.from == host && $0.target == .engine }.count
            if count > TCFaultEngine.maxImpairments {
                block(host, "\(count) impairments on \(host) (the kernel engine holds \(TCFaultEngine.maxImpairments))")
            }
        }
        // 3. Per host, one engine.
        let netemInterfaces = Set(impairmentTargets.filter { $0.target == .netem }.map { "\($0.impairment.from)/\($0.interface.name)" })
        var engines: [String: Engine] = [:]
        for host in network.hosts.map(\.name) where hostsWithSegmentFaults.contains(host) {
            if force == .nfqueue { block(host, forceLabel) }
            if !support.tcBPF { block(host, support.tcBPFProblem ?? "this kernel cannot attach tc BPF programs") }
            if obstacles[host] == nil {
                // fq and netem cannot both be the root qdisc of one device.
                let delays = placements.contains { $0.host == host && Self.holds($0.placed) }
                    || impairmentTargets.contains { $0.impairment.from == host && $0.target == .engine && Self.holds(PlacedImpairment($0.impairment, interfaceIndex: 0)) }
                if delays, let clash = network.host(host)?.interfaces.first(where: { netemInterfaces.contains("\(host)/\($0.name)") }) {
                    let reason = "fq (for its delays) and netem (an impairment that asks for it) cannot both be the root qdisc of \(clash.name)"
                    if force == .bpf {
                        let location = placements.first { $0.host == host }?.fault.location
                            ?? impairmentTargets.first { $0.impairment.from == host && $0.target == .netem }!.impairment.location
                        errors.append(ScenarioError(location, "\(forceLabel) cannot serve \(host)'s faults: \(reason)"))
                    }
                    block(host, reason)
                }
            }
            engines[host] = obstacles[host] == nil ? .kernel(fq: false) : .nfqueue
        }
        // 4. Build each host's work in scenario order.
        for placement in placements {
            add(placement.placed, on: placement.host, interface: placement.interface, engine: engines[placement.host] ?? .nfqueue)
        }
        for (impairment, interface, target) in impairmentTargets {
            if target == .netem {
                qdiscs.append(Qdisc(host: impairment.from, interface: interface.name, interfaceIndex: interface.index,
                                    options: NetemOptions(impairment)))
                continue
            }
            let placed = PlacedImpairment(impairment, interfaceIndex: UInt32(interface.index))
            let engine = engines[impairment.from] ?? .nfqueue
            update(impairment.from, engine: engine) { work in
                work.impairments.append(placed)
                if engine == .nfqueue {
                    work.rules.append(QueueRule(hook: .postrouting, outputInterface: interface.name, tcpOnly: false))
                    if placed.needsPayload { work.copyRange = Self.wholePacket }
                    if placed.duplicate > 0 { work.injects = true }
                }
            }
        }
        for index in hosts.indices {
            hosts[index].reason = obstacles[hosts[index].host]
            if hosts[index].engine != .nfqueue {
                hosts[index].reason = nil
                Self.placeKernelInterfaces(&hosts[index], network: network)
            }
        }
        // 5. The report's lines: a fault placed on several hosts is in the kernel only if all are.
        for fault in scenario.faults {
            let on = hosts.filter { work in work.faults.contains { $0.name == fault.name } }
            let outside = on.filter { $0.engine == .nfqueue }
            if let first = outside.first {
                let reason = outside.count == on.count && on.count == 1 ? first.reason
                    : outside.map { "on \($0.host): \($0.reason ?? "")" }.joined(separator: "; ")
                summary.append(Summary(description: fault.name, backend: Backend.nfqueue.rawValue, reason: reason))
            } else {
                summary.append(Summary(description: fault.name, backend: on.first?.backendName ?? Backend.bpf.rawValue))
            }
        }
        for (impairment, _, target) in impairmentTargets {
            switch target {
            case .netem:
                summary.append(Summary(description: impairment.description, backend: Backend.netem.rawValue,
                                       reason: impairment.backend == .netem ? "the impairment asks for netem"
                                           : "in the kernel: \(Self.kernelObstacle(PlacedImpairment(impairment, interfaceIndex: 0), support: support) ?? obstacles[impairment.from] ?? support.tcBPFProblem ?? "not possible")"))
            case .engine:
                let work = hosts.first { $0.host == impairment.from }
                summary.append(Summary(description: impairment.description, backend: work?.backendName ?? Backend.nfqueue.rawValue,
                                       reason: work?.engine == .nfqueue ? work?.reason : nil))
            }
        }
    }

    // MARK: - What the kernel can do

    /// Why `fault` cannot run in the kernel here, or nil when it can: the tc engine's own
    /// conversion (`PlacedFault.kernelRule`) decides.
    static func kernelObstacle(_ fault: PlacedFault, support: KernelFaultSupport) -> String? {
        if case .nfqueue(let reason) = fault.kernelRule(fqAvailable: support.fq) { return reason }
        return nil
    }

    /// Why `impairment` cannot run in the kernel here, or nil when it can (`PlacedImpairment.kernelImpairment`).
    static func kernelObstacle(_ impairment: PlacedImpairment, support: KernelFaultSupport) -> String? {
        if case .nfqueue(let reason) = impairment.kernelImpairment(fqAvailable: support.fq) { return reason }
        return nil
    }

    /// Whether the obstacle is this kernel's lack (a skip), not what the impairment asks (an error).
    static func isKernelLack(_ impairment: PlacedImpairment, support: KernelFaultSupport) -> Bool {
        !support.tcBPF || kernelObstacle(impairment, support: KernelFaultSupport(tcBPF: true, fq: true, netem: support.netem)) == nil
    }

    /// Holds packets for a while: needs fq in the kernel.
    static func holds(_ fault: PlacedFault) -> Bool {
        if case .delay(let seconds) = fault.action { return seconds > 0 }
        return false
    }

    static func holds(_ impairment: PlacedImpairment) -> Bool {
        impairment.delay > 0 || impairment.jitter > 0 || impairment.reorder > 0
    }

    /// The longest time a packet of this fault is held.
    static func longestHold(_ fault: PlacedFault) -> Double {
        if case .delay(let seconds) = fault.action { return seconds }
        return 0
    }

    static func longestHold(_ impairment: PlacedImpairment) -> Double { impairment.delay + impairment.jitter }

    /// Whether a fault may touch segments TCP builds as GSO skbs (data, a FIN on data, any).
    static func touchesBulk(_ fault: PlacedFault) -> Bool {
        switch fault.kind {
        case nil, .data?, .fin?, .any?: true
        case .syn?, .synAck?, .rst?, .handshakeAck?, .pureAck?, .finAck?: false
        }
    }

    /// The interfaces a kernel host's programs attach to: fq where something is held,
    /// one-segment skbs where bulk segments may be held for times of their own, the peer
    /// program where they may be dropped, duplicated or corrupted.
    static func placeKernelInterfaces(_ work: inout HostWork, network: NetworkPlan) {
        let all = network.host(work.host)?.interfaces ?? []
        var attached: [KernelInterface] = []
        var longest: [Int32: Double] = [:]
        func touch(_ index: UInt32?, hold: Double, timesBulk: Bool, actsOnBulk: Bool) {
            for interface in all where index == nil || UInt32(interface.index) == index! {
                if !attached.contains(where: { $0.index == interface.index }) {
                    attached.append(KernelInterface(name: interface.name, index: interface.index, fq: nil, singleSegments: false))
                }
                let position = attached.firstIndex { $0.index == interface.index }!
                if timesBulk { attached[position].singleSegments = true }
                if actsOnBulk { attached[position].handsOver = true }
                if hold > 0 { longest[interface.index] = max(longest[interface.index] ?? 0, hold) }
            }
        }
        for fault in work.faults {
            let bulk = touchesBulk(fault)
            touch(fault.interfaceIndex, hold: longestHold(fault), timesBulk: bulk && holds(fault), actsOnBulk: bulk && !holds(fault))
        }
        for impairment in work.impairments {
            // A constant delay holds a GSO packet's segments alike; jitter and reordering do not.
            touch(impairment.interfaceIndex, hold: longestHold(impairment),
                  timesBulk: impairment.jitter > 0 || impairment.reorder > 0,
                  actsOnBulk: impairment.loss > 0 || impairment.duplicate > 0 || impairment.corrupt > 0)
            if impairment.corrupt > 0, let position = attached.firstIndex(where: { UInt32($0.index) == impairment.interfaceIndex }) {
                attached[position].corrupts = true
            }
        }
        for index in attached.indices {
            for link in network.links {
                if link.hostA == work.host && link.interfaceA == attached[index].name {
                    (attached[index].peerHost, attached[index].peerInterface, attached[index].peerIndex) =
                        (link.hostB, link.interfaceB, link.indexB)
                } else if link.hostB == work.host && link.interfaceB == attached[index].name {
                    (attached[index].peerHost, attached[index].peerInterface, attached[index].peerIndex) =
                        (link.hostA, link.interfaceA, link.indexA)
                }
            }
        }
        for index in attached.indices {
            if let hold = longest[attached[index].index] { attached[index].fq = FQOptions.holding(hold) }
        }
        work.interfaces = attached.sorted { $0.index < $1.index }
        work.engine = .kernel(fq: attached.contains { $0.fq != nil })
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

    private mutating func add(_ fault: PlacedFault, on host: String, interface: String?, engine: Engine) {
        update(host, engine: engine) { work in
            work.faults.append(fault)
            guard engine == .nfqueue else { return }
            work.rules += Self.rules(for: fault, interface: interface)
            if fault.action == .duplicate {
                work.copyRange = Self.wholePacket
                work.injects = true
            }
        }
    }

    private mutating func update(_ host: String, engine: Engine, _ change: (inout HostWork) -> Void) {
        if let index = hosts.firstIndex(where: { $0.host == host }) {
            change(&hosts[index])
        } else {
            var work = HostWork(host: host, engine: engine)
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
