import CNetfaultBPF
import Foundation
import Glibc

/// Each TCP segment's own departure, for every host of a scenario at once: one BPF object
/// (bpf/departures.bpf.c), loaded once and attached once to the `net_dev_start_xmit`
/// tracepoint, one filter keyed by namespace, one ring, one thread reading it. Each host's
/// `BPFCapture` registers its namespace (`register(namespace:)`, which gives it a slot) and
/// its interfaces; every departure carries its host's slot, and `departures(slot:)` hands
/// each capture its own.
///
/// Why one for the scenario: the tracepoint fires for every device transmit of the machine
/// and runs every program attached to it. One program per host ran each of a two-host
/// scenario's segments twice (one kept it, the other turned it away), and every other
/// transmit on the machine once per host. Equivalent to `bpftool prog load departures.bpf.o`
/// and `bpftool prog attach` of `capture_departure` to tp_btf/net_dev_start_xmit, with
/// `bpftool map update` of each host's namespace inode; nothing is pinned.
///
/// Where the kernel refuses the program (a tracepoint needs the kernel's BTF; tc programs do
/// not), nothing is recorded and `unavailable` says why: every segment keeps its packet's instant.
public final class DepartureRecorder: @unchecked Sendable {
    /// The program (its C function).
    static let program = "capture_departure"
    /// nf_capture_departure's size.
    static let departureSize = 24
    /// NF_DEPARTURE_BATCH: departures per ring record (nf_capture_departure_batch: a count,
    /// 4 bytes reserved, then the departures).
    static let batch = 32
    /// nf_capture_departure_batch's size: each CPU's value in departure_batch.
    static let batchSize = 8 + batch * departureSize
    /// NF_DEPARTURE_INDEX: the direct-mapped filter's entries (a host at index inode % 256).
    static let indexes: UInt32 = 256
    /// NF_DEPARTURE_HOSTS: the overflow hash's entries, and so the most hosts.
    static let maximumHosts = 256

    private let object: BPFObject?
    private let realtimeOffset: Int64
    private let everyHostInOverflow: Bool
    private let lock = NSLock()
    private let stopping = NSLock()
    private var ring: BPFRingBuffer?
    private var namespacesFD: Int32 = -1
    private var overflowFD: Int32 = -1
    private var devicesFD: Int32 = -1
    private var batchFD: Int32 = -1
    private var lostFD: Int32 = -1
    /// Each registered host, by slot (nil once removed).
    private var hosts: [Host?] = []
    /// Each slot's departures, in the order recorded.
    private var recorded: [[BPFCapture.Departure]] = []
    private var why: String?
    private var attached = false
    private var running = false
    private var stopped = false
    private var stopRequested = false
    private var failure: BPFError?
    private var readerSeconds = 0.0
    private let done = DispatchSemaphore(value: 0)

    /// Loads the program (not yet attached: the first interface attaches it). `realtimeOffset`
    /// is CLOCK_REALTIME − CLOCK_MONOTONIC, as for `BPFCapture`: pass the one its captures get.
    /// A kernel that refuses the program leaves `unavailable` saying why; other failures throw.
    public convenience init(realtimeOffset: Int64) throws {
        try self.init(realtimeOffset: realtimeOffset, everyHostInOverflow: false)
    }

    /// `everyHostInOverflow`: each host in the overflow hash, as where hosts' inodes share an
    /// index (for tests: a scenario's few namespaces rarely do).
    init(realtimeOffset: Int64, everyHostInOverflow: Bool) throws {
        self.everyHostInOverflow = everyHostInOverflow
        guard let bytes = Data(base64Encoded: DeparturesObject.base64) else {
            throw BPFError("departures: the embedded BPF object is corrupt", errno: EINVAL)
        }
        self.realtimeOffset = realtimeOffset
        do {
            object = try BPFObject(bytes: Array(bytes), name: "departures")
        } catch let error as BPFError {
            object = nil
            why = "the departures' program did not load: \(error)"
            return
        }
        namespacesFD = try object!.mapFD("departure_namespaces")
        overflowFD = try object!.mapFD("departure_overflow")
        devicesFD = try object!.mapFD("departure_devices")
        batchFD = try object!.mapFD("departure_batch")
        lostFD = try object!.mapFD("lost")
        ring = try BPFRingBuffer(mapFD: try object!.mapFD("departures")) { [unowned self] batch in append(batch) }
    }

    deinit { close() }

    /// Why no departures are recorded (the kernel would not load or attach the program); nil: they are.
    public var unavailable: String? { lock.withLock { why } }

    /// Adds `namespace` as a host (no interface yet) and returns its slot, which its
    /// departures carry; the same slot for a namespace added before. Equivalent to `bpftool
    /// map update` of departure_namespaces with the namespace's inode.
    public func register(namespace: NetworkNamespace) throws -> Int {
        let inode = try namespace.inode()
        return try lock.withLock {
            if let slot = hosts.firstIndex(where: { $0?.inode == inode }) { return slot }
            guard hosts.count < Self.maximumHosts else {
                throw BPFError("departures: more than \(Self.maximumHosts) hosts in \(namespace.name)", errno: E2BIG)
            }
            // The first live host at its index is in the array, the others in the overflow hash.
            let direct = !everyHostInOverflow && !hosts.contains { $0?.direct == true && $0!.inode % Self.indexes == inode % Self.indexes }
            hosts.append(Host(inode: inode, direct: direct))
            recorded.append([])
            let slot = hosts.count - 1
            if why == nil { try writeHost(slot) }
            return slot
        }
    }

    /// Records the departures of interface `interfaceIndex` of host `slot` from now on,
    /// attaching the program with the first interface. A kernel that refuses to attach it
    /// leaves `unavailable` saying why.
    public func add(interfaceIndex: Int32, name: String, slot: Int) throws {
        try lock.withLock {
            guard why == nil, let object, slot < hosts.count, var host = hosts[slot] else { return }
            let index = UInt32(bitPattern: interfaceIndex)
            if index < 64 {
                host.devices |= 1 << UInt64(index)
                hosts[slot] = host
                try writeHost(slot)
            } else {
                try BPFObject.update(map: devicesFD, key: Self.deviceKey(inode: host.inode, index: index), value: [1],
                                     operation: "departures: add \(name) to the devices")
                host.largeIndexes.append(index)
                hosts[slot] = host
            }
            if !attached {
                do {
                    try object.attachProgram(Self.program)
                    attached = true
                } catch {
                    why = "the departures' program did not attach: \(error)"
                }
            }
        }
    }

    /// Stops recording host `slot`'s departures (its capture closed): its filter entries go.
    public func remove(slot: Int) {
        lock.withLock {
            guard slot < hosts.count, let host = hosts[slot] else { return }
            hosts[slot] = nil
            guard object != nil, why == nil else { return }
            if !host.direct { BPFObject.delete(map: overflowFD, key: withUnsafeBytes(of: host.inode) { Array($0) }) }
            _ = try? writeIndex(host.inode % Self.indexes)
            for index in host.largeIndexes { BPFObject.delete(map: devicesFD, key: Self.deviceKey(inode: host.inode, index: index)) }
        }
    }

    /// Starts the thread that drains the ring (again: nothing; after `stop()`: nothing).
    public func start() {
        lock.withLock {
            guard ring != nil, !running, !stopped else { return }
            running = true
            let thread = Thread { [self] in
                let cpuAtStart = ProcessCPU.threadSeconds()
                do {
                    try ring?.drain(pollMilliseconds: BPFCapture.pollMilliseconds) { lock.withLock { stopRequested } }
                } catch let error as BPFError {
                    lock.withLock { failure = error }
                } catch {
                    lock.withLock { failure = BPFError("departures: \(error)", errno: EIO) }
                }
                lock.withLock { readerSeconds = ProcessCPU.threadSeconds() - cpuAtStart }
                done.signal()
            }
            thread.name = "netfault bpf departures"
            thread.start()
        }
    }

    /// Stops reading, for every host at once (the first capture to stop stops it; again:
    /// nothing), and reads what each CPU gathered but had not yet written to the ring.
    /// The program stays attached until `close()`.
    public func stop() throws {
        // One caller at a time: the thread signals `done` once.
        try stopping.withLock {
            let wasRunning = lock.withLock {
                let was = running && !stopped
                stopRequested = true
                return was
            }
            if wasRunning { done.wait() }
            let first = lock.withLock {
                defer { stopped = true; running = false }
                return !stopped
            }
            if let failure = lock.withLock({ failure }) { throw failure }
            if first { appendGathered() }
        }
    }

    /// Host `slot`'s departures recorded until `stop()`, in the order recorded.
    public func departures(slot: Int) -> [BPFCapture.Departure] {
        lock.withLock { slot < recorded.count ? recorded[slot] : [] }
    }

    /// Departures the program could not write because the ring was full, whichever hosts
    /// they were for (a batch mixes them): those segments keep their packet's instant.
    public var lost: Int {
        guard lostFD >= 0 else { return 0 }
        return Int(BPFObject.lookup(map: lostFD, key: [0, 0, 0, 0], valueSize: 8)
            .map { $0.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } } ?? 0)
    }

    /// The CPU seconds its reader thread took, once `stop()` has returned (0 before): the
    /// capture's cost in userspace, beside its program's.
    public var readerCPUSeconds: Double { lock.withLock { readerSeconds } }

    /// The program's runs and run time so far (counted only inside `ProgramCost.counting`).
    public var programStats: [ProgramCost] { object?.programStats() ?? [] }

    /// The ids of the program and maps (`bpftool prog`/`map` show them), to find leaks.
    public var ids: (programs: Set<UInt32>, maps: Set<UInt32>) { object?.ids() ?? ([], []) }

    /// Stops reading (if `stop()` has not) and detaches the program, destroying the
    /// tracepoint's link; the object and its maps are freed with this instance. Again: nothing.
    public func close() {
        _ = try? stop()
        lock.withLock {
            object?.detach()
            attached = false
            ring = nil
        }
    }

    /// A registered host: its namespace's inode, its interfaces, and where the filter has it.
    private struct Host {
        let inode: UInt32
        /// In the array at inode % 256 (else in the overflow hash: another host was there first).
        let direct: Bool
        /// Bit i: interface index i is captured.
        var devices: UInt64 = 0
        /// Captured interfaces of index ≥ 64 (in departure_devices).
        var largeIndexes: [UInt32] = []
    }

    /// Host `slot`'s filter entry: in the overflow hash if it is there, and its index's array entry.
    private func writeHost(_ slot: Int) throws {
        guard let host = hosts[slot] else { return }
        if !host.direct {
            try BPFObject.update(map: overflowFD, key: withUnsafeBytes(of: host.inode) { Array($0) },
                                 value: Self.entry(inode: host.inode, slot: slot, overflow: false, devices: host.devices),
                                 operation: "departures: set host \(slot)'s filter")
        }
        try writeIndex(host.inode % Self.indexes)
    }

    /// The array entry at `index` (bpf/capture.h's nf_departure_namespace): the live host
    /// there (or none), and whether others sharing the index are in the overflow hash.
    private func writeIndex(_ index: UInt32) throws {
        let sharing = hosts.indices.filter { hosts[$0].map { $0.inode % Self.indexes == index } ?? false }
        let direct = sharing.first { hosts[$0]!.direct }
        let value = Self.entry(inode: direct.map { hosts[$0]!.inode } ?? 0, slot: direct ?? 0,
                               overflow: sharing.contains { !hosts[$0]!.direct }, devices: direct.map { hosts[$0]!.devices } ?? 0)
        try BPFObject.update(map: namespacesFD, key: withUnsafeBytes(of: index) { Array($0) }, value: value,
                             operation: "departures: set the filter at \(index)")
    }

    /// nf_departure_namespace: inode, slot (16 bits), overflow, a reserved byte, the interface bits.
    private static func entry(inode: UInt32, slot: Int, overflow: Bool, devices: UInt64) -> [UInt8] {
        var value = [UInt8](repeating: 0, count: 16)
        withUnsafeBytes(of: inode) { value.replaceSubrange(0..<4, with: $0) }
        withUnsafeBytes(of: UInt16(slot)) { value.replaceSubrange(4..<6, with: $0) }
        value[6] = overflow ? 1 : 0
        withUnsafeBytes(of: devices) { value.replaceSubrange(8..<16, with: $0) }
        return value
    }

    /// nf_departure_device: the namespace's inode, the interface index.
    private static func deviceKey(inode: UInt32, index: UInt32) -> [UInt8] {
        withUnsafeBytes(of: inode) { Array($0) } + withUnsafeBytes(of: index) { Array($0) }
    }

    /// One batch (bpf/capture.h's nf_capture_departure_batch): its count, then that many
    /// nf_capture_departure, each to its slot's list.
    private func append(_ batch: UnsafeRawBufferPointer) {
        guard batch.count >= 8 else { return }
        let count = min(Int(batch.loadUnaligned(fromByteOffset: 0, as: UInt32.self)), Self.batch,
                        (batch.count - 8) / Self.departureSize)
        lock.withLock {
            // Taken out of the instance for the batch and put back: one exclusivity check of the
            // property per batch instead of one per departure (perf: the appends' samples fell by
            // a third), and the lists, held once, are appended to in place.
            var lists: [[BPFCapture.Departure]] = []
            swap(&lists, &recorded)
            defer { swap(&lists, &recorded) }
            for index in 0..<count {
                let at = 8 + index * Self.departureSize
                let slot = Int(batch.loadUnaligned(fromByteOffset: at + 20, as: UInt32.self))
                guard slot < lists.count else { continue }
                let monotonic = batch.loadUnaligned(fromByteOffset: at, as: UInt64.self)
                lists[slot].append(BPFCapture.Departure(
                    timestamp: Int64(bitPattern: monotonic) + realtimeOffset,
                    interfaceIndex: batch.loadUnaligned(fromByteOffset: at + 8, as: UInt32.self),
                    sequence: batch.loadUnaligned(fromByteOffset: at + 12, as: UInt32.self),
                    length: Int(batch.loadUnaligned(fromByteOffset: at + 16, as: UInt32.self))))
            }
        }
    }

    /// What each CPU has gathered but not yet written to the ring (fewer than a batch):
    /// read from the per-CPU array, once, when recording stops.
    private func appendGathered() {
        guard batchFD >= 0 else { return }
        let cpus = Int(nf_bpf_possible_cpus())
        guard cpus > 0, let values = BPFObject.lookup(map: batchFD, key: [0, 0, 0, 0], valueSize: cpus * Self.batchSize) else { return }
        // Each CPU's value, rounded up to 8 bytes (the batch's size already is).
        values.withUnsafeBytes { all in
            for cpu in 0..<cpus {
                append(UnsafeRawBufferPointer(rebasing: all[(cpu * Self.batchSize)..<((cpu + 1) * Self.batchSize)]))
            }
        }
    }
}
