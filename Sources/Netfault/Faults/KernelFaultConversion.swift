import NetfaultKernel

/// A fault or impairment as the tc engine runs it, or why it cannot run there.
public enum KernelConversion<Entry: Sendable & Equatable>: Sendable, Equatable {
    /// The map entry the kernel engine runs.
    case entry(Entry)
    /// Why it stays on NFQUEUE ("count-based reordering needs NFQUEUE", …).
    case nfqueue(String)

    /// The entry, if it runs in the kernel.
    public var entry: Entry? { if case .entry(let entry) = self { entry } else { nil } }
}

extension PlacedFault {
    /// This fault as one rule of the tc engine. Pure. `fqAvailable`: the kernel has sch_fq,
    /// which releases packets at their earliest departure time (delays need it).
    public func kernelRule(fqAvailable: Bool) -> KernelConversion<KernelFaultRule> {
        let action: KernelFaultRule.Action
        switch self.action {
        case .drop: action = .drop
        case .duplicate: action = .duplicate
        case .delay(let seconds):
            guard fqAvailable else { return .nfqueue("a delay needs sch_fq, which this kernel lacks") }
            action = .delay(nanoseconds: SegmentIdentity.nanoseconds(seconds))
        case .reorder:
            return .nfqueue("count-based reordering needs NFQUEUE")
        }
        let occurrence: KernelFaultRule.Occurrence
        switch self.occurrence {
        case .all: occurrence = .all
        case .nth(let n), .first(let n), .everyNth(let n), .afterNth(let n):
            guard let n = UInt32(exactly: n) else { return .nfqueue("occurrence \(n) does not fit the kernel's counter") }
            occurrence = switch self.occurrence {
            case .nth: .nth(n)
            case .first: .first(n)
            case .everyNth: .everyNth(n)
            default: .afterNth(n)
            }
        }
        let kind: KernelFaultRule.Kind = switch self.kind {
        case nil: .everyPacket
        case .syn: .syn
        case .synAck: .synAck
        case .handshakeAck: .handshakeAck
        case .pureAck: .pureAck
        case .data: .data
        case .fin: .fin
        case .finAck: .finAck
        case .rst: .rst
        case .any: .any
        }
        return .entry(KernelFaultRule(
            kind: kind, occurrence: occurrence, action: action, port: port,
            windowStart: window.map { Self.windowNanoseconds($0.lowerBound) } ?? 0,
            windowEnd: window.map { Self.windowNanoseconds($0.upperBound) } ?? .max,
            interfaceIndex: interfaceIndex,
            destinations: destinations.map { Set($0.map { KernelAddress(high: $0.high, low: $0.low, isIPv6: $0.isIPv6) }) }))
    }

    /// A window edge in nanoseconds since t0, rounded up: t (ns) is in [start, end) in the
    /// kernel exactly when t / 1e9 is in the window in seconds (up to a nanosecond).
    static func windowNanoseconds(_ seconds: Double) -> UInt64 {
        if seconds <= 0 { return 0 }
        if !seconds.isFinite || seconds >= 1.8e10 { return .max }
        return UInt64((seconds * 1e9).rounded(.up))
    }
}

extension PlacedImpairment {
    /// This impairment as one entry of the tc engine. Pure.
    public func kernelImpairment(fqAvailable: Bool) -> KernelConversion<KernelImpairment> {
        if lossCorrelation > 0 { return .nfqueue("correlated loss is drawn in arrival order (NFQUEUE)") }
        if delayCorrelation > 0 && jitter > 0 { return .nfqueue("correlated delay is drawn in arrival order (NFQUEUE)") }
        if reorderCorrelation > 0 && reorder > 0 { return .nfqueue("correlated reordering is drawn in arrival order (NFQUEUE)") }
        if bytesPerSecond != nil { return .nfqueue("a rate limit needs NFQUEUE") }
        if (delay > 0 || jitter > 0) && !fqAvailable { return .nfqueue("a delay needs sch_fq, which this kernel lacks") }
        return .entry(KernelImpairment(
            interfaceIndex: interfaceIndex, delayNanoseconds: SegmentIdentity.nanoseconds(delay),
            jitterNanoseconds: SegmentIdentity.nanoseconds(jitter), lossThreshold: SegmentIdentity.threshold(loss),
            duplicateThreshold: SegmentIdentity.threshold(duplicate), corruptThreshold: SegmentIdentity.threshold(corrupt),
            reorderThreshold: SegmentIdentity.threshold(reorder)))
    }
}

/// One host's faults for the tc engine: all of them run in the kernel, or none does (the
/// first fault that selects a segment acts, so splitting one host's list between two
/// engines would change what acts).
public struct KernelHostPlan: Sendable, Equatable {
    /// The host's faults as kernel rules, in scenario order.
    public let rules: [KernelFaultRule]
    /// The host's impairments as kernel entries.
    public let impairments: [KernelImpairment]
    /// Why the host stays on NFQUEUE, one line per fault or impairment that cannot move; empty
    /// when everything runs in the kernel.
    public let reasons: [String]

    /// Converts `work` (pure).
    public init(_ work: FaultPlan.HostWork, fqAvailable: Bool) {
        var rules: [KernelFaultRule] = [], impairments: [KernelImpairment] = [], reasons: [String] = []
        for fault in work.faults {
            switch fault.kernelRule(fqAvailable: fqAvailable) {
            case .entry(let rule): rules.append(rule)
            case .nfqueue(let reason): reasons.append("\(fault.name): \(reason)")
            }
        }
        for impairment in work.impairments {
            switch impairment.kernelImpairment(fqAvailable: fqAvailable) {
            case .entry(let entry): impairments.append(entry)
            case .nfqueue(let reason): reasons.append("\(impairment.name): \(reason)")
            }
        }
        if rules.count > TCFaultEngine.maxRules { reasons.append("\(rules.count) faults on \(work.host) (the kernel engine holds \(TCFaultEngine.maxRules))") }
        if impairments.count > TCFaultEngine.maxImpairments {
            reasons.append("\(impairments.count) impairments on \(work.host) (the kernel engine holds \(TCFaultEngine.maxImpairments))")
        }
        self.rules = reasons.isEmpty ? rules : []
        self.impairments = reasons.isEmpty ? impairments : []
        self.reasons = reasons
    }

    /// Everything runs in the kernel.
    public var runsInKernel: Bool { reasons.isEmpty }
}

/// The names reports use for a tc engine's rules and impairments, in their order.
public struct KernelFaultNames: Sendable, Equatable {
    /// The fault names, by kernel rule index.
    public let rules: [String]
    /// The impairment names, by kernel impairment index.
    public let impairments: [String]

    /// Names in the order the engine was given its entries.
    public init(rules: [String], impairments: [String]) {
        self.rules = rules
        self.impairments = impairments
    }

    /// The names of `work`'s faults and impairments.
    public init(_ work: FaultPlan.HostWork) {
        self.init(rules: work.faults.map(\.name), impairments: work.impairments.map(\.name))
    }
}

extension FaultDecision {
    /// The report's form of a tc engine decision, with the same action text the Swift
    /// engine writes ("dropped", "delayed 300 ms", "duplicated", "corrupted", "reordered").
    /// `t0`: the scenario's start, CLOCK_MONOTONIC nanoseconds, as given to the engine.
    public init(_ decision: KernelFaultDecision, host: String, names: KernelFaultNames, t0: Int64) {
        let list = decision.source == .rule ? names.rules : names.impairments
        let name = decision.index < list.count ? list[decision.index] : "\(decision.source) #\(decision.index)"
        let action: String = switch decision.action {
        case .drop: "dropped"
        case .delay: "delayed \(Format.milliseconds(Double(decision.delayNanoseconds) / 1e9))"
        case .duplicate: "duplicated"
        case .corrupt: "corrupted"
        case .reorder: "reordered"
        }
        func address(_ a: KernelAddress) -> PacketAddress {
            a.isIPv6 ? PacketAddress(ipv6High: a.high, low: a.low) : PacketAddress(ipv4: UInt32(truncatingIfNeeded: a.low))
        }
        let dropped = decision.action == .drop
        self.init(time: Double(Int64(bitPattern: decision.timeNanoseconds) - t0) / 1e9, host: host, fault: name, action: action,
                  source: VerdictEngine.endpoint(address(decision.sourceAddress), decision.sourcePort),
                  destination: VerdictEngine.endpoint(address(decision.destinationAddress), decision.destinationPort),
                  flags: decision.transport == 6 ? TCPFlags(rawValue: decision.flags).tcpdump : "proto \(decision.transport)",
                  sequence: decision.sequence, acknowledgment: decision.acknowledgment, length: decision.length,
                  droppedPacket: dropped ? decision.packet : nil, interfaceIndex: dropped ? decision.interfaceIndex : nil)
        atLinkEnd = decision.carriedOutAtPeer
    }
}
