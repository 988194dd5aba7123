import CNetfaultBPF
import Foundation
import Glibc

/// The fault engine in the kernel for one faulted host: its own instance of
/// bpf/fault_engine.bpf.c, maps filled with the host's rules and impairments, its programs
/// attached at clsact egress and ingress of the host's interfaces (and, where it acts on
/// segments inside GSO packets, at the ingress of the links' other ends or of a detour of the
/// host's own), its decisions
/// read from a ring. Equivalent to `bpftool prog loadall fault_engine.bpf.o DIR` + `bpftool map
/// update` for each entry; nothing is pinned, so `close()` (or the process's end) removes
/// it all.
public final class TCFaultEngine: @unchecked Sendable {
    /// Rules and impairments the object has room for (NF_MAX_RULES, NF_MAX_IMPAIRMENTS).
    public static let maxRules = 16
    public static let maxImpairments = 8
    /// Sizes of bpf/fault_engine.h's structs, checked against the shim's _Static_asserts.
    static let configSize = 40, ruleSize = 40, impairmentSize = 56
    /// The tc filter pref of the engine's programs (`tc filter add … pref 256`): filters
    /// with a higher pref (the capture's) run after them, on what they let through.
    public static let tcPriority: UInt32 = 256
    /// The pref of `fault_peer` at a link's other end where it is a clsact filter (no tcx):
    /// ahead of that host's own engine, so that a segment it drops is not seen arriving there.
    public static let peerPriority: UInt32 = 128

    private let object: BPFObject
    private let egressFD: Int32
    private let ingressFD: Int32
    private let peerFD: Int32
    private let detourFD: Int32
    private let detoursFD: Int32
    private let configFD: Int32
    private let lostFD: Int32
    private var ring: BPFRingBuffer?
    private let lock = NSLock()
    private var received: [KernelFaultDecision] = []
    private var attachments: [Attachment] = []
    private var closed = false
    private var configuration: [UInt8]

    private struct Attachment {
        let namespace: NetworkNamespace
        let interfaceIndex: Int32
        let name: String
        let handles: [UInt32]
        let priorities: [UInt32]
        let createdHook: Bool
        let isPeer: Bool
        /// A tcx link's fd (`fault_peer` on 6.6+); -1 for clsact filters.
        var linkFD: Int32 = -1
    }

    /// How a program is attached to an interface's tc hook.
    public enum Hook: String, Sendable {
        /// A tcx link (Linux 6.6+): run ahead of the clsact filters, without their classifier
        /// layers, and detached when netfault's link fd closes, even if netfault is killed.
        case tcx
        /// A direct-action `bpf` filter of a clsact qdisc (`tc filter add … bpf da`).
        case clsBPF = "cls_bpf"
    }

    /// Loads an instance and fills its maps. `t0` is the scenario's start (CLOCK_MONOTONIC
    /// nanoseconds, `MonotonicClock.now()`), which rule windows count from; `skipMark` the
    /// mark of packets the engine leaves alone (netfault's own, and its duplicates).
    public init(rules: [KernelFaultRule], impairments: [KernelImpairment], seed: UInt64, t0: Int64, skipMark: UInt32) throws {
        guard rules.count <= Self.maxRules else {
            throw BPFError("fault engine: \(rules.count) rules on one host (at most \(Self.maxRules))", errno: E2BIG)
        }
        guard impairments.count <= Self.maxImpairments else {
            throw BPFError("fault engine: \(impairments.count) impairments on one host (at most \(Self.maxImpairments))", errno: E2BIG)
        }
        guard let bytes = Data(base64Encoded: FaultEngineObject.base64) else {
            throw BPFError("fault engine: the embedded BPF object is corrupt", errno: EINVAL)
        }
        object = try BPFObject(bytes: Array(bytes), name: "fault_engine")
        egressFD = try object.programFD("fault_egress")
        ingressFD = try object.programFD("fault_ingress")
        peerFD = try object.programFD("fault_peer")
        detourFD = try object.programFD("fault_detour")
        detoursFD = try object.mapFD("detours")
        configFD = try object.mapFD("config")
        lostFD = try object.mapFD("lost")
        configuration = try Self.fill(object, configFD: configFD, rules: rules, impairments: impairments, seed: seed, t0: t0,
                                      skipMark: skipMark)
        ring = try BPFRingBuffer(mapFD: try object.mapFD("decisions")) { [unowned self] record in
            if let decision = KernelFaultDecision(record: record) { received.append(decision) }
        }
    }

    deinit { close() }

    /// Writes the entries and the configuration; the configuration's bytes.
    private static func fill(_ object: BPFObject, configFD: Int32, rules: [KernelFaultRule], impairments: [KernelImpairment],
                             seed: UInt64, t0: Int64, skipMark: UInt32) throws -> [UInt8] {
        let rulesFD = try object.mapFD("rules"), impairmentsFD = try object.mapFD("impairments")
        let destinationsFD = try object.mapFD("destinations")
        for (index, rule) in rules.enumerated() {
            try BPFObject.update(map: rulesFD, key: Self.key(index), value: rule.encoded, operation: "fill BPF map rules")
            for address in rule.destinations ?? [] {
                var key = MapBytes()
                key.u32(UInt32(index))
                key.u32(address.isIPv6 ? 6 : 4)
                key.u64(address.high)
                key.u64(address.low)
                try BPFObject.update(map: destinationsFD, key: key.bytes, value: [1], operation: "fill BPF map destinations")
            }
        }
        for (index, impairment) in impairments.enumerated() {
            try BPFObject.update(map: impairmentsFD, key: Self.key(index), value: impairment.encoded,
                                 operation: "fill BPF map impairments")
        }
        var config = MapBytes()
        config.u64(UInt64(max(0, t0)))
        config.u64(seed)
        config.u64(0)
        config.u32(skipMark)
        config.u32(UInt32(rules.count))
        config.u32(UInt32(impairments.count))
        // NF_CONFIG_EVERY_SEGMENT: some rule may match a data segment without FIN, or an impairment draws for each.
        let everySegment = !impairments.isEmpty || rules.contains { [.data, .any, .everyPacket].contains($0.kind) }
        config.u32(everySegment ? 1 : 0)
        precondition(config.bytes.count == Self.configSize && rules.allSatisfy { $0.encoded.count == Self.ruleSize }
                     && impairments.allSatisfy { $0.encoded.count == Self.impairmentSize })
        try BPFObject.update(map: configFD, key: Self.key(0), value: config.bytes, operation: "fill BPF map config")
        return config.bytes
    }

    /// Forgets every flow (counts, classification, identities) and takes new entries, as a
    /// new engine would: equivalent to `bpftool map delete` of every entry, then `bpftool map
    /// update`. For the differential test, which runs thousands of cases on one instance.
    public func reset(rules: [KernelFaultRule], impairments: [KernelImpairment], seed: UInt64, t0: Int64, skipMark: UInt32) throws {
        guard rules.count <= Self.maxRules, impairments.count <= Self.maxImpairments else {
            throw BPFError("fault engine: too many rules or impairments", errno: E2BIG)
        }
        try lock.withLock {
            for (name, keySize) in [("destinations", 24), ("occurrences", 48), ("classes", 40), ("identities", 40), ("retransmissions", 48), ("pending", 48)] {
                let result = nf_bpf_map_clear(try object.mapFD(name), UInt32(keySize))
                if result < 0 { throw BPFError("clear BPF map \(name)", errno: -result) }
            }
            try BPFObject.update(map: try object.mapFD("pending_count"), key: Self.key(0), value: [UInt8](repeating: 0, count: 8),
                                 operation: "clear BPF map pending_count")
            configuration = try Self.fill(object, configFD: configFD, rules: rules, impairments: impairments, seed: seed, t0: t0,
                                          skipMark: skipMark)
            try ring?.poll(timeoutMilliseconds: 0)
            received.removeAll()
        }
    }

    private static func key(_ index: Int) -> [UInt8] {
        var key = MapBytes()
        key.u32(UInt32(index))
        return key.bytes
    }

    /// Attaches the engine to one interface of the host: creates clsact if missing, then
    /// the egress program and, with `observingIngress`, the ingress one (which only the
    /// ACK-of-FIN kind needs: it sees the other side's FIN), on a thread that enters
    /// `namespace` and ends after. Equivalent to `tc qdisc add dev X clsact; tc filter add dev
    /// X egress pref 256 bpf da obj fault_engine.bpf.o sec tc; tc filter add dev X ingress pref 256 bpf da obj …`.
    public func attach(interfaceIndex: Int32, name: String, in namespace: NetworkNamespace, observingIngress: Bool = true) throws {
        try attach(interfaceIndex: interfaceIndex, name: name, in: namespace, programs: (egressFD, observingIngress ? ingressFD : -1),
                   priorities: [Self.tcPriority, Self.tcPriority])
    }

    /// Attaches `fault_peer` at the ingress of the other end of one of the host's links,
    /// where the segments of the GSO packets the host sends arrive one by one: it drops,
    /// duplicates or corrupts those the egress program decided on. It runs on every segment
    /// the link carries, so it takes the cheapest hook the kernel has: a tcx link (6.6+;
    /// `bpftool net attach tcx_ingress`), which runs ahead of the peer host's own clsact
    /// filters; else `tc qdisc add dev Y clsact; tc filter add dev Y ingress pref 128 bpf da
    /// obj fault_engine.bpf.o sec tc` in the peer's namespace, pref 128 ahead of that host's
    /// engine. A clsact it may create there stays (the peer's own engine may have attached
    /// to it since) and goes with the interface. Returns the hook it took.
    @discardableResult
    public func attachPeer(interfaceIndex: Int32, name: String, in namespace: NetworkNamespace) throws -> Hook {
        // tcx saves the classifier layers (tc_run, tcf_classify, cls_bpf_classify): perf on
        // 6.18 put them at 3.5 % of a bulk transfer's CPU against 0.5 % for fault_peer itself.
        let linked: Int32? = try lock.withLock {
            if closed { throw BPFError("attach fault engine to \(name): engine closed", errno: EBADF) }
            var linkFD: Int32 = -1
            var stage = [CChar](repeating: 0, count: 64)
            let result = nf_tcx_attach_ingress(namespace.fd, interfaceIndex, peerFD, &linkFD, &stage, stage.count)
            if result == -EINVAL { return nil }  // no tcx before Linux 6.6
            if result != 0 {
                let step = String(decoding: stage.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                throw BPFError("\(step) on \(name) in \(namespace.name)", errno: -result)
            }
            attachments.append(Attachment(namespace: namespace, interfaceIndex: interfaceIndex, name: name, handles: [0, 0],
                                          priorities: [0, 0], createdHook: false, isPeer: true, linkFD: linkFD))
            return linkFD
        }
        if linked != nil { return .tcx }
        try attach(interfaceIndex: interfaceIndex, name: name, in: namespace, programs: (-1, peerFD),
                   priorities: [0, Self.peerPriority], isPeer: true)
        return .clsBPF
    }

    /// Whether the egress program decides on each segment of a GSO packet (a rule may match a
    /// data segment without FIN, or an impairment draws for each): then `fault_peer` carries
    /// out its actions on them. Else only a packet's last segment (which may carry the FIN) can
    /// be acted on, and such a packet takes a detour (`attachDetour`).
    public var decidesEverySegment: Bool {
        lock.withLock { configuration[36] & 1 != 0 }
    }

    /// The interface indexes of the detour of interface `index`: far above any a scenario's
    /// links take (and ≥ 64, where the departures' program keeps no bit for them).
    static func detourIndexes(of index: Int32) -> (egress: Int32, ingress: Int32) {
        (1000 + 2 * index, 1001 + 2 * index)
    }

    /// Gives one of the host's interfaces a detour: a veth pair in the host's namespace, its
    /// segmentation offloads off, with `fault_detour` at the ingress of its second end. A GSO
    /// packet whose last segment must be dropped, duplicated or corrupted (only the last can
    /// be, without `decidesEverySegment`) goes there from the egress program, is cut into
    /// segments, and `fault_detour` carries out the action and sends each segment on out of
    /// the interface. Every other packet goes straight out, so no program runs on the bulk of
    /// a transfer's segments (`fault_peer` would run on all of them). Equivalent to `ip link add
    /// nfdtNa type veth peer name nfdtNb; sysctl -w net.ipv6.conf.nfdtNa.disable_ipv6=1 (and
    /// nfdtNb); ethtool -K nfdtNa tso off gso off gro off (and nfdtNb); ip link set nfdtNa up;
    /// ip link set nfdtNb up; tc qdisc add dev nfdtNb clsact; tc filter add dev nfdtNb ingress
    /// pref 256 bpf da obj fault_engine.bpf.o sec tc`, N the interface's index, in the
    /// namespace; the pair goes with the namespace.
    public func attachDetour(interfaceIndex: Int32, name: String, in namespace: NetworkNamespace) throws {
        let (egress, ingress) = Self.detourIndexes(of: interfaceIndex)
        let egressName = "nfdt\(interfaceIndex)a", ingressName = "nfdt\(interfaceIndex)b"
        let rtnetlink = try namespace.rtnetlink()
        try rtnetlink.perform([Rtnetlink.newVeth(name: egressName, index: egress, peer: ingressName, peerIndex: ingress,
                                                 peerNamespaceFD: namespace.fd, mtu: 65535)])
        // No IPv6 there: its neighbour discovery would be all the pair carries besides detours.
        for end in [egressName, ingressName] { try SysctlAccess.write("net.ipv6.conf.\(end).disable_ipv6", "1", in: namespace) }
        try LinkOffloads.disable(links: [egressName, ingressName], in: namespace)
        try rtnetlink.perform([Rtnetlink.setUp(index: egress, name: egressName), Rtnetlink.setUp(index: ingress, name: ingressName)])
        for (from, to) in [(interfaceIndex, egress), (ingress, interfaceIndex)] {
            try BPFObject.update(map: detoursFD, key: Self.key(Int(from)), value: Self.key(Int(to)),
                                 operation: "fill BPF map detours for \(name)")
        }
        try attach(interfaceIndex: ingress, name: ingressName, in: namespace, programs: (-1, detourFD),
                   priorities: [0, Self.tcPriority])
    }

    /// Detaches the `fault_peer` programs (closes their tcx links, or `tc filter del dev Y
    /// ingress pref 128 …`). When
    /// two hosts' engines attach to each other's links, every engine must do this before
    /// any closes: a close removes the clsact its engine created, filters of others with it.
    /// Errors other than a device already gone are returned, one line each.
    @discardableResult
    public func detachPeers() -> [String] {
        lock.withLock {
            let peers = attachments.filter(\.isPeer)
            attachments.removeAll(where: \.isPeer)
            return peers.compactMap(Self.detach)
        }
    }

    private static func detach(_ attachment: Attachment) -> String? {
        if attachment.linkFD >= 0 {
            // The link's only reference: closing it detaches the program (on a device gone, too).
            Sys.close(attachment.linkFD)
            return nil
        }
        let result = nf_tc_detach_pair(attachment.namespace.fd, attachment.interfaceIndex, attachment.handles,
                                       attachment.priorities, attachment.createdHook ? 1 : 0)
        return result == 0 ? nil : "\(BPFError("tc filter del dev \(attachment.name) in \(attachment.namespace.name)", errno: -result))"
    }

    private func attach(interfaceIndex: Int32, name: String, in namespace: NetworkNamespace, programs: (Int32, Int32),
                        priorities wanted: [UInt32], isPeer: Bool = false) throws {
        try lock.withLock {
            if closed { throw BPFError("attach fault engine to \(name): engine closed", errno: EBADF) }
            var created: Int32 = 0
            var handles: [UInt32] = [0, 0], priorities = wanted
            var stage = [CChar](repeating: 0, count: 64)
            let result = nf_tc_attach_pair(namespace.fd, interfaceIndex, programs.0, programs.1, &created, &handles, &priorities,
                                           &stage, stage.count)
            if result != 0 {
                let step = String(decoding: stage.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                throw BPFError("\(step) on \(name) in \(namespace.name)", errno: -result)
            }
            attachments.append(Attachment(namespace: namespace, interfaceIndex: interfaceIndex, name: name, handles: handles,
                                          priorities: priorities, createdHook: created != 0 && !isPeer, isPeer: isPeer))
        }
    }

    /// Waits up to `timeoutMilliseconds` for decisions and returns all there are, in order.
    public func poll(timeoutMilliseconds: Int32) throws -> [KernelFaultDecision] {
        try lock.withLock {
            guard let ring else { return [] }
            try ring.poll(timeoutMilliseconds: timeoutMilliseconds)
            defer { received.removeAll(keepingCapacity: true) }
            return received
        }
    }

    /// Decisions the programs could not record because the ring was full.
    public var lostDecisions: UInt64 {
        BPFObject.lookup(map: lostFD, key: Self.key(0), valueSize: 8).map { $0.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } } ?? 0
    }

    /// Each program's runs and run time (counted inside `ProgramCost.counting`).
    public func programStats() -> [ProgramCost] { object.programStats() }

    /// Detaches every program (and removes clsact where the engine created it), then frees
    /// the object. Equivalent to `tc filter del dev X egress …; tc qdisc del dev X clsact`.
    /// Errors other than a device already gone are returned, one line each.
    @discardableResult
    public func close() -> [String] {
        lock.withLock {
            guard !closed else { return [] }
            closed = true
            let errors = attachments.reversed().compactMap(Self.detach)
            attachments.removeAll()
            ring = nil
            return errors
        }
    }

    // MARK: - Test runs (the differential test)

    /// What one test run of a program did to a frame.
    public struct TestRun: Sendable {
        /// TC_ACT_UNSPEC (0xFFFFFFFF: let through, later filters run), TC_ACT_STOLEN (4, a
        /// drop at egress: the sender is told it went, as on a wire), TC_ACT_SHOT (2, a drop
        /// by `fault_peer`) or TC_ACT_OK (0, `fault_ingress`).
        public let verdict: UInt32
        /// The frame after the program (changed by a corruption).
        public let frame: [UInt8]
        /// skb->tstamp after the program: the earliest departure a delay set.
        public let departureNanoseconds: UInt64
    }

    /// Which program a test run runs.
    public enum Program: Sendable {
        /// `fault_egress`: decides.
        case egress
        /// `fault_ingress`: observes what arrives.
        case ingress
        /// `fault_peer`: carries out what egress decided for a segment inside a GSO packet.
        case peer
    }

    /// Runs one program once on `frame` (Ethernet on) with the engine's clock at
    /// `clockNanoseconds`, through `bpf_prog_test_run_opts`: no device is involved
    /// (skb->ifindex is the loopback's, 1) and duplicates are recorded, not sent.
    /// `gsoSegmentSize` > 0 makes the frame a GSO packet of segments that size (skb->gso_size,
    /// and skb->gso_segs from the frame's payload). Once called, the engine stays in test
    /// mode (its clock is the runs' own). Equivalent to `bpftool prog run … data_in FILE`.
    public func testRun(frame: [UInt8], clockNanoseconds: UInt64, program: Program = .egress, gsoSegmentSize: Int = 0,
                        gsoSegments: Int = 0) throws -> TestRun {
        if configuration[16..<24].allSatisfy({ $0 == 0 }) {
            // Test mode on: the clock comes from each run's context from now on.
            withUnsafeBytes(of: UInt64(1).littleEndian) { configuration.replaceSubrange(16..<24, with: $0) }
            try BPFObject.update(map: configFD, key: Self.key(0), value: configuration, operation: "set the test clock")
        }
        let contextSize = Int(nf_bpf_sk_buff_size())
        // struct __sk_buff: cb[0] at 48, cb[1] at 52 (the clock's low and high words).
        var contextIn = [UInt8](repeating: 0, count: contextSize)
        withUnsafeBytes(of: clockNanoseconds.littleEndian) { contextIn.replaceSubrange(48..<56, with: $0) }
        if gsoSegmentSize > 0 {
            // gso_segs at 164, gso_size at 176 (struct __sk_buff, 5.7 on).
            withUnsafeBytes(of: UInt32(gsoSegments).littleEndian) { contextIn.replaceSubrange(164..<168, with: $0) }
            withUnsafeBytes(of: UInt32(gsoSegmentSize).littleEndian) { contextIn.replaceSubrange(176..<180, with: $0) }
        }
        var contextOut = [UInt8](repeating: 0, count: contextSize)
        var out = [UInt8](repeating: 0, count: frame.count + 256)
        var outSize = UInt32(out.count)
        var verdict: UInt32 = 0
        let result = frame.withUnsafeBytes { data in
            contextIn.withUnsafeBytes { ctxIn in
                nf_bpf_prog_test_run(program == .egress ? egressFD : program == .ingress ? ingressFD : peerFD, data.baseAddress, UInt32(data.count), &out, &outSize,
                                     ctxIn.baseAddress, &contextOut, UInt32(contextSize), &verdict)
            }
        }
        if result != 0 {
            let gso = gsoSegmentSize > 0 ? " (a GSO packet of \(gsoSegments) × \(gsoSegmentSize) bytes)" : ""
            throw BPFError("bpf_prog_test_run_opts of the \(program) program\(gso)", errno: -result)
        }
        // struct __sk_buff's tstamp is at offset 152 in every kernel since 5.0.
        let tstamp = contextOut.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 152, as: UInt64.self) }
        return TestRun(verdict: verdict, frame: Array(out.prefix(Int(outSize))), departureNanoseconds: tstamp)
    }

    /// This engine's programs and maps, by kernel id (`bpftool prog show id …`).
    public var ids: (programs: Set<UInt32>, maps: Set<UInt32>) { object.ids() }

    /// Ids of every BPF program and map loaded on the machine now (`bpftool prog` and `bpftool
    /// map` list them): a test compares them before and after to find leaks.
    public static func loadedIDs() -> (programs: Set<UInt32>, maps: Set<UInt32>) {
        func walk(_ next: (UInt32) -> Int64) -> Set<UInt32> {
            var ids: Set<UInt32> = [], current: UInt32 = 0
            while true {
                let id = next(current)
                if id < 0 { return ids }
                current = UInt32(id)
                ids.insert(current)
            }
        }
        return (walk { nf_bpf_prog_next_id($0) }, walk { nf_bpf_map_next_id($0) })
    }
}
